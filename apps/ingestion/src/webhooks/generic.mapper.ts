import { createHash } from 'node:crypto';
import { isRecord, str, valueAtPath } from './json';
import { trackItem, type MapContext, type Mapped } from './mapper';

/** A generic source's `settings.mapping`: where each field is in the payload (JSON pointer or dot path). */
export interface GenericMapping {
  userId?: string;
  anonymousId?: string;
  /** Path of the event name; or `eventName` for a fixed one. */
  event?: string;
  eventName?: string;
  messageId?: string;
  timestamp?: string;
  /** Path of an object to use as properties; the whole payload when omitted. */
  properties?: string;
}

export function readMapping(settings: Record<string, unknown>): GenericMapping {
  const m = isRecord(settings.mapping) ? settings.mapping : {};
  const s = (k: string): string | undefined => (typeof m[k] === 'string' ? (m[k] as string) : undefined);
  return { userId: s('userId'), anonymousId: s('anonymousId'), event: s('event'), eventName: s('eventName'), messageId: s('messageId'), timestamp: s('timestamp'), properties: s('properties') };
}

/** Maps any JSON webhook through the source's mapping into a track event. */
export function mapGeneric(payload: unknown, raw: Buffer, mapping: GenericMapping, ctx: MapContext): Mapped {
  const at = (path?: string): unknown => (path ? valueAtPath(payload, path) : undefined);
  const userId = str(at(mapping.userId))?.slice(0, 255);
  const anonymousId = str(at(mapping.anonymousId))?.slice(0, 255);
  const name = (str(at(mapping.event)) ?? mapping.eventName)?.slice(0, 255);
  if ((!userId && !anonymousId) || !name) return { items: [], unhandled: 'generic:unmapped' };
  // Without an id in the payload, the body's hash: a resent identical delivery is a duplicate.
  const messageId = str(at(mapping.messageId))?.slice(0, 200) ?? createHash('sha256').update(raw).digest('hex');
  const props = mapping.properties ? at(mapping.properties) : payload;
  const time = at(mapping.timestamp);
  const occurredAt = typeof time === 'number' ? new Date(time < 1e12 ? time * 1000 : time) : typeof time === 'string' ? new Date(time) : ctx.receivedAt;
  return { items: [trackItem(ctx, { userId, anonymousId }, `generic:${messageId}`, name, isRecord(props) ? props : { value: props }, occurredAt, 'generic')] };
}
