import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { callVendor, defineProvider, HttpProviderOptions, joinUrl, SmsProvider, type SendResult, type SmsMessage } from '@tessera/provider-core';

export class TwilioOptions extends HttpProviderOptions {
  override baseUrl: string = 'https://api.twilio.com';

  @Matches(/^AC[0-9A-Za-z]{8,64}$/, { message: 'accountSid must look like AC followed by letters and digits' })
  accountSid!: string;

  @IsString()
  @MaxLength(255)
  authToken!: string;

  /** Sender number (E.164) or alphanumeric sender; or use messagingServiceSid. */
  @IsOptional()
  @Matches(/^(\+[1-9]\d{6,14}|[A-Za-z0-9 ]{1,11})$/, { message: 'from must be an E.164 number or an alphanumeric sender id' })
  from?: string;

  @IsOptional()
  @Matches(/^MG[0-9A-Za-z]{8,64}$/)
  messagingServiceSid?: string;
}

/** Twilio's error body: `{ code, message, more_info, status }`. */
interface TwilioError {
  code?: number;
  message?: string;
  status?: number;
}

/** SMS through Twilio's Messages API (or any server speaking it). */
export class TwilioSmsProvider extends SmsProvider {
  constructor(private readonly options: TwilioOptions) {
    super();
  }

  async send(message: SmsMessage): Promise<SendResult> {
    const { accountSid, authToken } = this.options;
    const form = new URLSearchParams({ To: message.to, Body: message.body });
    const from = message.from ?? this.options.from;
    if (from) form.set('From', from);
    if (this.options.messagingServiceSid) form.set('MessagingServiceSid', this.options.messagingServiceSid);
    const response = await callVendor(
      {
        url: joinUrl(this.options.baseUrl, `/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`),
        headers: {
          authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          // Twilio de-duplicates requests carrying the same token.
          'i-twilio-idempotency-token': message.idempotencyKey,
        },
        body: form.toString(),
        timeoutMs: this.options.timeoutMs,
      },
      ({ json, status }) => {
        const error = (json ?? {}) as TwilioError;
        return { reason: error.message ? `${error.code ?? status}: ${error.message}` : '', code: error.code };
      },
    );
    const sid = (response.json as { sid?: unknown } | undefined)?.sid;
    if (typeof sid !== 'string') throw new Error('Twilio answered without a message sid');
    return { providerMessageId: sid };
  }
}

export const twilioSms = defineProvider({
  id: 'twilio',
  channel: 'sms',
  optionsSchema: TwilioOptions,
  secretOptions: ['authToken'],
  create: (options) => new TwilioSmsProvider(options),
});
