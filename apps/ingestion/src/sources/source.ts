/** Kinds of webhook providers a source can receive from. */
export const WEBHOOK_PROVIDERS = ['stripe', 'shopify', 'whatsapp', 'twilio', 'generic'] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];
export const SOURCE_KINDS = ['tracking', 'webhook'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** A source as the hot path and webhooks need it (no key hashes). */
export interface SourceRecord {
  id: string;
  workspaceId: string;
  name: string;
  kind: SourceKind;
  provider: WebhookProvider | null;
  allowedOrigins: string[];
  signingSecret: string | null;
  settings: Record<string, unknown>;
  previousWriteKeyExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** `whsec_abcd...wxyz` -> `whse…wxyz`: enough to recognise a secret, not to use it. */
export function maskSecret(secret: string | null): string | null {
  if (!secret) return null;
  return secret.length <= 8 ? '…' : `${secret.slice(0, 4)}…${secret.slice(-4)}`;
}
