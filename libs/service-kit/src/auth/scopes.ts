import { createHash } from 'node:crypto';

/** API areas a key can be scoped to; `platform` covers creating workspaces. */
export const AREAS = ['crm', 'ingestion', 'segmentation', 'journeys', 'messaging', 'analytics', 'keys', 'platform'] as const;
export type Area = (typeof AREAS)[number];
export type Scope = `${Area}:${'read' | 'write'}` | '*';

export const ALL_SCOPES: readonly Scope[] = ['*', ...AREAS.flatMap((a) => [`${a}:read`, `${a}:write`] as Scope[])];

/** `*` grants everything; `<area>:write` implies `<area>:read`. */
export function hasScope(granted: readonly string[], required: Scope): boolean {
  if (granted.includes('*') || granted.includes(required)) return true;
  const [area, access] = required.split(':');
  return access === 'read' && granted.includes(`${area}:write`);
}

/**
 * Keys are stored and looked up by their SHA-256. They are 32 random bytes, so a fast hash is
 * enough (no brute force of such a space), and it lets any service verify without the key itself.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
