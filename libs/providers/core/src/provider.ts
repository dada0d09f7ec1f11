import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { ChannelMessages, EmailMessage, ProviderChannel, PushMessage, SendResult, SmsMessage, WebhookMessage, WhatsAppMessage } from './ports';

/** A running provider instance bound to one validated set of options. */
export abstract class ChannelProvider<C extends ProviderChannel = ProviderChannel> {
  abstract readonly channel: C;
  /** Sends one message; throws ProviderError on failure. */
  abstract send(message: ChannelMessages[C]): Promise<SendResult>;
  /** Releases pooled connections. */
  async close(): Promise<void> {}
}

/** The ports: one abstract base per channel. */
export abstract class EmailProvider extends ChannelProvider<'email'> {
  readonly channel = 'email' as const;
  abstract override send(message: EmailMessage): Promise<SendResult>;
}
export abstract class SmsProvider extends ChannelProvider<'sms'> {
  readonly channel = 'sms' as const;
  abstract override send(message: SmsMessage): Promise<SendResult>;
}
export abstract class WhatsAppProvider extends ChannelProvider<'whatsapp'> {
  readonly channel = 'whatsapp' as const;
  abstract override send(message: WhatsAppMessage): Promise<SendResult>;
}
export abstract class PushProvider extends ChannelProvider<'push'> {
  readonly channel = 'push' as const;
  abstract override send(message: PushMessage): Promise<SendResult>;
}
export abstract class WebhookProvider extends ChannelProvider<'webhook'> {
  readonly channel = 'webhook' as const;
  abstract override send(message: WebhookMessage): Promise<SendResult>;
}

/**
 * A plug-in: `{ id, channel, optionsSchema, create(options) }`. The options schema is a
 * class-validator class; options are validated when a configuration is saved and again at start-up.
 */
export interface ProviderDefinition<C extends ProviderChannel = ProviderChannel, O extends object = object> {
  readonly id: string;
  readonly channel: C;
  readonly optionsSchema: new () => O;
  /** Option names holding secrets: stored, never returned by the API, never logged. */
  readonly secretOptions: readonly string[];
  create(options: O): ChannelProvider<C>;
}

export function defineProvider<C extends ProviderChannel, O extends object>(def: ProviderDefinition<C, O>): ProviderDefinition<C, O> {
  return def;
}

export interface OptionProblem {
  path: string;
  messages: string[];
}

function flatten(errors: ValidationError[], prefix = ''): OptionProblem[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints ? [{ path, messages: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], path)];
  });
}

export type OptionsResult<O> = { ok: true; options: O } | { ok: false; problems: OptionProblem[] };

/** Validates raw options against a provider's schema (unknown keys are refused). */
export function validateProviderOptions<O extends object>(def: ProviderDefinition<ProviderChannel, O>, raw: unknown): OptionsResult<O> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, problems: [{ path: '', messages: ['options must be an object'] }] };
  const options = plainToInstance(def.optionsSchema, raw, { exposeDefaultValues: true });
  const errors = validateSync(options, { whitelist: true, forbidNonWhitelisted: true });
  return errors.length ? { ok: false, problems: flatten(errors) } : { ok: true, options };
}

/** Options with every secret replaced, for API answers and logs. */
export function redactOptions(def: ProviderDefinition, options: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...options };
  for (const key of def.secretOptions) if (key in out) out[key] = '(stored)';
  return out;
}
