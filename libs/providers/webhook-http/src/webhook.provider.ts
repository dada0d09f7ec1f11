import { IsString, MinLength, MaxLength, IsOptional, Matches } from 'class-validator';
import { callVendor, defineProvider, HttpProviderOptions, joinUrl, WebhookProvider, type SendResult, type WebhookMessage } from '@tessera/provider-core';
import { signWebhook } from './signature';

export class WebhookOptions extends HttpProviderOptions {
  /** Path appended to baseUrl (the receiver's endpoint). */
  @IsOptional()
  @Matches(/^\/[^\s]*$/, { message: 'path must start with /' })
  path: string = '/';

  /** Shared HMAC secret; receivers verify with it. */
  @IsString()
  @MinLength(16)
  @MaxLength(256)
  secret!: string;
}

/** Signed JSON POSTs to a customer's endpoint. See signature.ts for the scheme receivers verify. */
export class HttpWebhookProvider extends WebhookProvider {
  constructor(private readonly options: WebhookOptions) {
    super();
  }

  async send(message: WebhookMessage): Promise<SendResult> {
    const timestamp = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ id: message.idempotencyKey, to: message.to, sentAt: new Date(timestamp * 1000).toISOString(), payload: message.payload });
    const response = await callVendor(
      {
        url: joinUrl(this.options.baseUrl, this.options.path),
        headers: {
          'content-type': 'application/json',
          'idempotency-key': message.idempotencyKey,
          'x-tessera-timestamp': String(timestamp),
          'x-tessera-signature': signWebhook(this.options.secret, body, timestamp),
        },
        body,
        timeoutMs: this.options.timeoutMs,
      },
      ({ json, text, status }) => {
        const reason = (json as { error?: unknown; message?: unknown } | undefined)?.error ?? (json as { message?: unknown } | undefined)?.message ?? text.slice(0, 300);
        return { reason: `${status}: ${String(reason)}` };
      },
    );
    const id = (response.json as { id?: unknown } | undefined)?.id;
    // Receivers rarely return an id of their own; ours is unique per message.
    return { providerMessageId: typeof id === 'string' && id ? id : `webhook:${message.idempotencyKey}` };
  }
}

export const httpWebhook = defineProvider({
  id: 'webhook',
  channel: 'webhook',
  optionsSchema: WebhookOptions,
  secretOptions: ['secret'],
  create: (options) => new HttpWebhookProvider(options),
});
