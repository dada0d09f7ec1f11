import { randomUUID } from 'node:crypto';
import {
  ALIAS_RECEIVED_V1,
  EVENT_RECEIVED_V1,
  GROUP_RECEIVED_V1,
  IDENTIFY_RECEIVED_V1,
  type AliasReceivedV1,
  type EventReceivedV1,
  type GroupReceivedV1,
  type IdentifyReceivedV1,
} from '@tessera/contracts';

// Hand-written validation of Segment calls: the hot path runs it once per event, where
// class-validator would cost ~20 µs each. It checks everything the contracts check, so the
// envelopes built from its output always satisfy them (proved by segment-call.spec.ts).

export const SEGMENT_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
export type SegmentType = (typeof SEGMENT_TYPES)[number];

/** Largest event accepted, in bytes of its JSON (Segment's limit). */
export const MAX_EVENT_BYTES = 32 * 1024;
/** Largest batch accepted, in bytes of its decompressed JSON (Segment's limit). */
export const MAX_BATCH_BYTES = 500 * 1024;
/** Deepest nesting of objects/arrays accepted inside an event. */
export const MAX_DEPTH = 32;

const MAX_ID = 255;

export interface ItemError {
  index: number;
  path: string;
  message: string;
}

export type IngestionSubject = typeof EVENT_RECEIVED_V1.subject | typeof IDENTIFY_RECEIVED_V1.subject | typeof ALIAS_RECEIVED_V1.subject | typeof GROUP_RECEIVED_V1.subject;
export type IngestionPayload = EventReceivedV1 | IdentifyReceivedV1 | AliasReceivedV1 | GroupReceivedV1;

export interface NormalisedCall {
  subject: IngestionSubject;
  messageId: string;
  data: IngestionPayload;
}

export interface CallContext {
  sourceId: string;
  receivedAt: Date;
  /** The batch's own `sentAt`, used for items that carry none. */
  batchSentAt?: unknown;
  /** Set by single-call routes (/v1/track...); batch items name their own type. */
  impliedType?: SegmentType;
  /** The caller already held the whole input to MAX_EVENT_BYTES in bytes as sent (a single call's body). */
  sizeChecked?: boolean;
  /** receivedAt as ISO 8601, when the caller formatted it once for many calls. */
  receivedAtIso?: string;
}

type Result = { ok: true; call: NormalisedCall } | { ok: false; path: string; message: string };

const fail = (path: string, message: string): Result => ({ ok: false, path, message });

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * At most how many UTF-8 bytes `value` takes as JSON, or -1 when objects/arrays nest deeper than
 * `limit`. A bound, not a measure: each UTF-16 unit of a string counts as 6 bytes (its longest
 * form, `\uXXXX`), each number as 25, so an event of a few KB of text is known to be under the
 * size limit without being serialised. Recursion stops as soon as the limit is passed, so it is
 * never deeper than `limit` frames, whatever the input.
 */
export function jsonBytesBound(value: unknown, limit: number, depth = 0): number {
  switch (typeof value) {
    case 'string':
      return value.length * 6 + 2;
    case 'number':
      return 25; // the longest a double prints, e.g. -2.2250738585072014e-308
    case 'object':
      break;
    default:
      return 5; // true, false; JSON.parse makes nothing else
  }
  if (value === null) return 4;
  if (depth > limit) return -1;
  let bytes = 2; // the brackets
  if (Array.isArray(value)) {
    for (const child of value) {
      const size = jsonBytesBound(child, limit, depth + 1);
      if (size < 0) return -1;
      bytes += size + 1; // and its comma
    }
    return bytes;
  }
  for (const key in value) {
    const size = jsonBytesBound((value as Record<string, unknown>)[key], limit, depth + 1);
    if (size < 0) return -1;
    bytes += key.length * 6 + 4 + size; // "key": value,
  }
  return bytes;
}

/** Whether objects/arrays nest deeper than `limit` (never recursing deeper than that). */
export function exceedsDepth(value: unknown, limit: number): boolean {
  return jsonBytesBound(value, limit) < 0;
}

/** A Segment id: a non-empty string, or a finite number (some SDKs send numeric user ids). */
function readId(body: Record<string, unknown>, field: string): string | undefined | Error {
  const value = body[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return new Error('must be a string');
  if (value.length > MAX_ID) return new Error(`must be at most ${MAX_ID} characters`);
  return value;
}

/** Years 0000-9999 only: anything else (or NaN) cannot be written back as ISO 8601. */
function writableAsIso(ms: number): boolean {
  return ms >= -62167219200000 && ms <= 253402300799999;
}

function readTime(value: unknown): Date | undefined | Error {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') return new Error('must be an ISO 8601 date');
  const date = new Date(value);
  if (!writableAsIso(date.getTime())) return new Error('must be an ISO 8601 date');
  return date;
}

function readObject(body: Record<string, unknown>, field: string): Record<string, unknown> | Error {
  const value = body[field];
  if (value === undefined || value === null) return {};
  return isPlainObject(value) ? value : new Error('must be an object');
}

/**
 * Segment's clock-skew correction: when the sender says when it sent (`sentAt`), the event's
 * time is receivedAt - (sentAt - originalTimestamp), so a device clock that is off does not move
 * its events. Without sentAt the sender's timestamp is taken as is; without any, receivedAt.
 */
export function correctedTimestamp(receivedAt: Date, original: Date | undefined, sentAt: Date | undefined): Date {
  if (!original) return receivedAt;
  if (!sentAt) return original;
  const corrected = new Date(receivedAt.getTime() - (sentAt.getTime() - original.getTime()));
  // An absurd skew (sentAt in the year 3996) would move the event outside 0000-9999: keep the sender's time.
  return writableAsIso(corrected.getTime()) ? corrected : original;
}

/** Validates and normalises one Segment call into the payload of its contract (depth and size: normaliseBatch). */
export function normaliseCall(raw: unknown, ctx: CallContext): Result {
  if (!isPlainObject(raw)) return fail('', 'must be a JSON object');
  const type = ctx.impliedType ?? raw.type;
  if (typeof type !== 'string' || !(SEGMENT_TYPES as readonly string[]).includes(type)) return fail('type', `must be one of ${SEGMENT_TYPES.join(', ')}`);

  const userId = readId(raw, 'userId');
  if (userId instanceof Error) return fail('userId', userId.message);
  const anonymousId = readId(raw, 'anonymousId');
  if (anonymousId instanceof Error) return fail('anonymousId', anonymousId.message);
  if (!userId && !anonymousId) return fail('userId', 'userId or anonymousId is required');
  const givenMessageId = readId(raw, 'messageId');
  if (givenMessageId instanceof Error) return fail('messageId', givenMessageId.message);
  // No messageId: a fresh one, so the event is kept (it simply cannot be de-duplicated).
  const messageId = givenMessageId ?? `tessera-${randomUUID()}`;

  const original = readTime(raw.originalTimestamp ?? raw.timestamp);
  if (original instanceof Error) return fail(raw.originalTimestamp !== undefined ? 'originalTimestamp' : 'timestamp', original.message);
  const sentAt = readTime(raw.sentAt ?? ctx.batchSentAt);
  if (sentAt instanceof Error) return fail('sentAt', sentAt.message);
  const context = readObject(raw, 'context');
  if (context instanceof Error) return fail('context', context.message);
  const integrations = readObject(raw, 'integrations');
  if (integrations instanceof Error) return fail('integrations', integrations.message);

  // Built field by field (no spreads: this runs once per event); the key order is the contracts'.
  const base: Record<string, unknown> = { messageId };
  if (userId) base.userId = userId;
  if (anonymousId) base.anonymousId = anonymousId;
  base.routingKey = (userId ?? anonymousId)!;
  base.timestamp = correctedTimestamp(ctx.receivedAt, original, sentAt).toISOString();
  base.receivedAt = ctx.receivedAtIso ?? ctx.receivedAt.toISOString();
  base.sourceId = ctx.sourceId;
  // Integrations (per-destination switches) travel in context: the contracts have no field for them.
  base.context = hasKeys(integrations) ? { ...context, integrations } : context;

  switch (type as SegmentType) {
    case 'track':
    case 'page':
    case 'screen': {
      const properties = readObject(raw, 'properties');
      if (properties instanceof Error) return fail('properties', properties.message);
      const nameField = type === 'track' ? 'event' : 'name';
      const name = raw[nameField];
      if (type === 'track' && (typeof name !== 'string' || !name.trim())) return fail('event', 'is required');
      if (name !== undefined && name !== null && typeof name !== 'string') return fail(nameField, 'must be a string');
      if (typeof name === 'string' && name.length > MAX_ID) return fail(nameField, `must be at most ${MAX_ID} characters`);
      base.type = type;
      if (typeof name === 'string' && name) base.name = name;
      base.properties = properties;
      return { ok: true, call: { subject: EVENT_RECEIVED_V1.subject, messageId, data: base as unknown as EventReceivedV1 } };
    }
    case 'identify': {
      const traits = readObject(raw, 'traits');
      if (traits instanceof Error) return fail('traits', traits.message);
      base.traits = traits;
      return { ok: true, call: { subject: IDENTIFY_RECEIVED_V1.subject, messageId, data: base as unknown as IdentifyReceivedV1 } };
    }
    case 'group': {
      const groupId = readId(raw, 'groupId');
      if (groupId instanceof Error) return fail('groupId', groupId.message);
      if (!groupId) return fail('groupId', 'is required');
      const traits = readObject(raw, 'traits');
      if (traits instanceof Error) return fail('traits', traits.message);
      base.groupId = groupId;
      base.traits = traits;
      return { ok: true, call: { subject: GROUP_RECEIVED_V1.subject, messageId, data: base as unknown as GroupReceivedV1 } };
    }
    case 'alias': {
      const previousId = readId(raw, 'previousId');
      if (previousId instanceof Error) return fail('previousId', previousId.message);
      if (!previousId) return fail('previousId', 'is required');
      if (!userId) return fail('userId', 'is required for alias');
      base.previousId = previousId;
      return { ok: true, call: { subject: ALIAS_RECEIVED_V1.subject, messageId, data: base as unknown as AliasReceivedV1 } };
    }
  }
}

/** Whether an object has an own key, without listing them all. */
function hasKeys(value: Record<string, unknown>): boolean {
  for (const key in value) if (Object.prototype.hasOwnProperty.call(value, key)) return true;
  return false;
}

export interface BatchResult {
  calls: NormalisedCall[];
  errors: ItemError[];
}

/** Size of a value's JSON in UTF-8 bytes. */
function jsonBytes(item: unknown): number {
  const json = JSON.stringify(item) ?? '';
  // A UTF-16 unit is at most 3 UTF-8 bytes: most events are counted without encoding them.
  return json.length * 3 <= MAX_EVENT_BYTES ? json.length : Buffer.byteLength(json);
}

/**
 * Normalises each item of a batch on its own: a bad or oversized item is reported with its index
 * and the rest are kept. Items repeating a messageId earlier in the same batch are dropped.
 */
export function normaliseBatch(items: unknown[], ctx: CallContext): BatchResult {
  const calls: NormalisedCall[] = [];
  const errors: ItemError[] = [];
  const seen = new Set<string>();
  const shared: CallContext = { ...ctx, receivedAtIso: ctx.receivedAt.toISOString() };
  items.forEach((item, index) => {
    // Depth first: measuring a pathologically deep item with JSON.stringify would overflow the stack.
    const bound = jsonBytesBound(item, MAX_DEPTH);
    if (bound < 0) {
      errors.push({ index, path: '', message: `is nested deeper than ${MAX_DEPTH} levels` });
      return;
    }
    // Serialised to be measured only when the bound leaves doubt (the bound is far above most events).
    const bytes = ctx.sizeChecked || bound <= MAX_EVENT_BYTES ? 0 : jsonBytes(item);
    if (bytes > MAX_EVENT_BYTES) {
      errors.push({ index, path: '', message: `event is ${bytes} bytes; the limit is ${MAX_EVENT_BYTES}` });
      return;
    }
    const result = normaliseCall(item, shared);
    if (!result.ok) {
      errors.push({ index, path: result.path, message: result.message });
      return;
    }
    if (seen.has(result.call.messageId)) return;
    seen.add(result.call.messageId);
    calls.push(result.call);
  });
  return { calls, errors };
}
