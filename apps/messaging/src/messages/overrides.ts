import type { ChannelContent } from '../templates/renderer';

/** Rendered parts a send may replace, per channel (`journeys.message.requested.v1` `overrides`). */
const OVERRIDABLE: Record<ChannelContent['channel'], readonly string[]> = {
  email: ['subject', 'html', 'text'],
  sms: ['body'],
  whatsapp: ['text'],
  push: ['title', 'body'],
  webhook: ['payload'],
};

export type AppliedOverrides = { ok: true; content: ChannelContent; provider?: string } | { ok: false; reason: string };

/**
 * Applies a send's overrides to the rendered template: string parts of the content by name
 * (e.g. `{ "subject": "Last chance" }`), and `provider`, the id of a provider configuration to
 * try first. Anything else is refused, so a mistyped override fails visibly instead of being ignored.
 */
export function applyOverrides(content: ChannelContent, overrides: Record<string, unknown> | undefined): AppliedOverrides {
  if (!overrides) return { ok: true, content };
  const { provider, ...parts } = overrides;
  if (provider !== undefined && typeof provider !== 'string') return { ok: false, reason: 'provider must be a provider configuration id' };
  const next: Record<string, unknown> = { ...content };
  for (const [key, value] of Object.entries(parts)) {
    if (!OVERRIDABLE[content.channel].includes(key)) return { ok: false, reason: `${key} cannot be overridden on ${content.channel} (allowed: ${OVERRIDABLE[content.channel].join(', ')}, provider)` };
    if (typeof value !== 'string') return { ok: false, reason: `${key} must be a string` };
    next[key] = value;
  }
  return { ok: true, content: next as ChannelContent, ...(provider ? { provider } : {}) };
}
