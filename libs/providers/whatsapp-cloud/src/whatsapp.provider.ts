import { ArrayMaxSize, IsArray, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { callVendor, defineProvider, HttpProviderOptions, joinUrl, ProviderError, WhatsAppProvider, type SendResult, type WhatsAppMessage } from '@tessera/provider-core';

/**
 * Country calling codes where WhatsApp Business messaging may not be used (Meta's Business
 * Messaging Policy and sanctions): Cuba (53), Iran (98), North Korea (850), Syria (963). The
 * sanctioned regions of Ukraine (Crimea, Donetsk, Luhansk) share +380/+7 with allowed areas and
 * cannot be told apart by number; workspaces add prefixes (e.g. `7978` for Crimean mobiles) in
 * `blockedCallingCodes`, which replaces this list when set.
 */
export const DEFAULT_BLOCKED_CALLING_CODES: readonly string[] = ['53', '98', '850', '963'];

export class WhatsAppCloudOptions extends HttpProviderOptions {
  override baseUrl: string = 'https://graph.facebook.com';

  @Matches(/^v\d+\.\d+$/, { message: 'apiVersion must look like v21.0' })
  apiVersion: string = 'v21.0';

  @Matches(/^\d{5,32}$/, { message: 'phoneNumberId must be the numeric id of the business phone number' })
  phoneNumberId!: string;

  @IsString()
  @MaxLength(1024)
  accessToken!: string;

  /** Number prefixes (digits after +) that are refused before any call. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @Matches(/^\d{1,8}$/, { each: true, message: 'each blocked calling code must be 1 to 8 digits' })
  blockedCallingCodes: string[] = [...DEFAULT_BLOCKED_CALLING_CODES];
}

/** Meta's error body: `{ error: { message, type, code, error_subcode, error_data, fbtrace_id } }`. */
interface GraphError {
  error?: { message?: string; code?: number; error_data?: { details?: string } };
}

/** The refused prefix when `to` (E.164) is in a blocked region, else undefined. */
export function blockedPrefix(to: string, blocked: readonly string[]): string | undefined {
  const digits = to.replace(/^\+/, '');
  return blocked.find((code) => digits.startsWith(code));
}

/** The Cloud API body for one of our message kinds. */
export function toGraphBody(message: WhatsAppMessage): Record<string, unknown> {
  const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to: message.to.replace(/^\+/, '') };
  switch (message.kind) {
    case 'text':
      return { ...base, type: 'text', text: { preview_url: false, body: message.text } };
    case 'template': {
      const params = message.template.bodyParameters ?? [];
      const components = params.length ? [{ type: 'body', parameters: params.map((text) => ({ type: 'text', text })) }] : [];
      return { ...base, type: 'template', template: { name: message.template.name, language: { code: message.template.language }, components } };
    }
    case 'interactive':
      return {
        ...base,
        type: 'interactive',
        interactive: { type: 'button', body: { text: message.body }, action: { buttons: message.buttons.map((b) => ({ type: 'reply', reply: { id: b.id, title: b.title } })) } },
      };
  }
}

/** WhatsApp through Meta's Cloud API (`POST /{version}/{phone-number-id}/messages`). */
export class WhatsAppCloudProvider extends WhatsAppProvider {
  constructor(private readonly options: WhatsAppCloudOptions) {
    super();
  }

  async send(message: WhatsAppMessage): Promise<SendResult> {
    const prefix = blockedPrefix(message.to, this.options.blockedCallingCodes);
    if (prefix) throw new ProviderError('permanent', `region_not_allowed: WhatsApp Business messaging is not allowed for numbers starting +${prefix}`);
    const response = await callVendor(
      {
        url: joinUrl(this.options.baseUrl, `/${this.options.apiVersion}/${this.options.phoneNumberId}/messages`),
        headers: { authorization: `Bearer ${this.options.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(toGraphBody(message)),
        timeoutMs: this.options.timeoutMs,
      },
      ({ json }) => {
        const error = (json as GraphError | undefined)?.error;
        const details = error?.error_data?.details ? ` (${error.error_data.details})` : '';
        return { reason: error?.message ? `${error.code ?? ''}: ${error.message}${details}` : '', code: error?.code };
      },
    );
    const id = (response.json as { messages?: { id?: unknown }[] } | undefined)?.messages?.[0]?.id;
    if (typeof id !== 'string') throw new Error('WhatsApp answered without a message id');
    return { providerMessageId: id };
  }
}

export const whatsappCloud = defineProvider({
  id: 'whatsapp_cloud',
  channel: 'whatsapp',
  optionsSchema: WhatsAppCloudOptions,
  secretOptions: ['accessToken'],
  create: (options) => new WhatsAppCloudProvider(options),
});
