/** The channels messaging sends on; each has one port (an abstract base) that its providers extend. */
export const PROVIDER_CHANNELS = ['email', 'sms', 'whatsapp', 'push', 'webhook'] as const;
export type ProviderChannel = (typeof PROVIDER_CHANNELS)[number];

interface Common {
  /**
   * The message's idempotency key (messaging's message id). Providers pass it to the vendor where
   * the vendor de-duplicates on it (Twilio's I-Twilio-Idempotency-Token, SMTP Message-ID, webhook
   * Idempotency-Key), so a retry after a lost response cannot deliver twice.
   */
  idempotencyKey: string;
}

export interface EmailMessage extends Common {
  to: string;
  /** Overrides the provider's default sender. */
  from?: string;
  subject: string;
  html?: string;
  text?: string;
  /** RFC 8058 one-click unsubscribe: becomes List-Unsubscribe + List-Unsubscribe-Post. */
  unsubscribeUrl?: string;
  headers?: Record<string, string>;
}

export interface SmsMessage extends Common {
  /** E.164 */
  to: string;
  body: string;
  from?: string;
}

export interface WhatsAppTemplate {
  name: string;
  /** e.g. en_US */
  language: string;
  /** Body parameters, in order ({{1}}, {{2}}, ...). */
  bodyParameters?: string[];
}

export interface WhatsAppButton {
  id: string;
  title: string;
}

export type WhatsAppMessage = Common & { to: string } & (
    | { kind: 'text'; text: string }
    | { kind: 'template'; template: WhatsAppTemplate }
    | { kind: 'interactive'; body: string; buttons: WhatsAppButton[] }
  );

export interface PushMessage extends Common {
  /** Device registration token. */
  to: string;
  title: string;
  body: string;
  data?: Record<string, string>;
}

export interface WebhookMessage extends Common {
  /** Overrides the provider's configured URL path (appended to its base URL) when set. */
  to: string;
  payload: Record<string, unknown>;
}

export interface ChannelMessages {
  email: EmailMessage;
  sms: SmsMessage;
  whatsapp: WhatsAppMessage;
  push: PushMessage;
  webhook: WebhookMessage;
}

export interface SendResult {
  /** The vendor's id for the message; delivery callbacks are matched by it. Always a string. */
  providerMessageId: string;
}
