import fc from 'fast-check';
import { v5 as uuidv5 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { eventDefinition, validateContract } from '@tessera/contracts';
import { checkedEnvelope, eventIdFor, fastEnvelope } from './envelopes';
import { correctedTimestamp, exceedsDepth, jsonBytesBound, MAX_EVENT_BYTES, normaliseBatch, normaliseCall } from './segment-call';

const SOURCE = '00000000-0000-4000-8000-000000000002';
const WORKSPACE = '00000000-0000-4000-8000-000000000001';
const receivedAt = new Date('2026-05-01T12:00:00.000Z');

describe('normaliseCall', () => {
  it('corrects clock skew from sentAt and originalTimestamp', () => {
    const at = correctedTimestamp(receivedAt, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:05Z'));
    expect(at.toISOString()).toBe('2026-05-01T11:59:55.000Z');
    expect(correctedTimestamp(receivedAt, new Date('2020-01-01T00:00:00Z'), undefined).toISOString()).toBe('2020-01-01T00:00:00.000Z');
    expect(correctedTimestamp(receivedAt, undefined, undefined)).toBe(receivedAt);
    // A correction that would leave years 0000-9999 (found by the property below) keeps the sender's time.
    expect(correctedTimestamp(receivedAt, new Date(0), new Date('3996-05-01T12:00:00.001Z')).toISOString()).toBe('1970-01-01T00:00:00.000Z');
  });

  it('uses the batch sentAt for items without their own', () => {
    const r = normaliseCall({ type: 'track', userId: 'u', event: 'E', timestamp: '2026-05-01T00:00:00Z' }, { sourceId: SOURCE, receivedAt, batchSentAt: '2026-05-01T00:01:00Z' });
    expect(r.ok && r.call.data.timestamp).toBe('2026-05-01T11:59:00.000Z');
  });

  it('maps each type to its contract and requires its fields', () => {
    const ok = (raw: object): boolean => normaliseCall(raw, { sourceId: SOURCE, receivedAt }).ok;
    expect(ok({ type: 'identify', userId: 'u', traits: { a: 1 } })).toBe(true);
    expect(ok({ type: 'group', userId: 'u' })).toBe(false);
    expect(ok({ type: 'group', userId: 'u', groupId: 'g' })).toBe(true);
    expect(ok({ type: 'alias', anonymousId: 'a', previousId: 'p' })).toBe(false);
    expect(ok({ type: 'alias', userId: 'u', previousId: 'p' })).toBe(true);
    expect(ok({ type: 'track', userId: 'u' })).toBe(false);
    expect(ok({ type: 'page', anonymousId: 'a' })).toBe(true);
    expect(ok({ type: 'track', userId: 42, event: 'n' })).toBe(true);
    expect(ok({ type: 'track', userId: {}, event: 'n' })).toBe(false);
    expect(ok({ type: 'track', userId: 'u', event: 'n', properties: [] })).toBe(false);
    expect(ok({ type: 'track', userId: 'u', event: 'n', timestamp: 'yesterday' })).toBe(false);
  });

  it('generates a messageId when none is sent, and drops repeats inside one batch', () => {
    const { calls } = normaliseBatch([{ type: 'track', userId: 'u', event: 'E' }, { type: 'track', userId: 'u', event: 'E', messageId: 'x' }, { type: 'track', userId: 'u', event: 'E', messageId: 'x' }], { sourceId: SOURCE, receivedAt });
    expect(calls).toHaveLength(2);
    expect(calls[0]!.messageId).toMatch(/^tessera-/);
  });

  it('rejects oversized and too deeply nested events by index', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 40; i++) deep = [deep];
    const { calls, errors } = normaliseBatch(
      [{ type: 'track', userId: 'u', event: 'E', properties: { s: 'x'.repeat(MAX_EVENT_BYTES) } }, { type: 'track', userId: 'u', event: 'E', properties: { deep } }, { type: 'track', userId: 'u', event: 'E' }],
      { sourceId: SOURCE, receivedAt },
    );
    expect(errors.map((e) => e.index)).toEqual([0, 1]);
    expect(calls).toHaveLength(1);
    expect(exceedsDepth({ a: { b: 1 } }, 1)).toBe(false);
    expect(exceedsDepth({ a: { b: { c: 1 } } }, 1)).toBe(true);
  });

  it('bounds the JSON size of any parsed value from above, and is -1 exactly when it nests too deep', () => {
    const tooDeep = (value: unknown, limit: number, depth = 0): boolean => typeof value === 'object' && value !== null && (depth > limit || Object.values(value).some((c) => tooDeep(c, limit, depth + 1)));
    fc.assert(
      // Any UTF-16 units in strings (lone surrogates and control characters print longest).
      fc.property(fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }), fc.integer({ min: 0, max: 4 }), (value, limit) => {
        const bound = jsonBytesBound(value, limit);
        expect(bound < 0).toBe(tooDeep(value, limit));
        if (bound >= 0) expect(Buffer.byteLength(JSON.stringify(value))).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 200 },
    );
    const longest = { s: '\u0001\ud800', n: -2.2250738585072014e-308 };
    expect(Buffer.byteLength(JSON.stringify(longest))).toBeLessThanOrEqual(jsonBytesBound(longest, 1));
    // fast-check builds its tables for any-unit strings on first use: seconds on a busy machine.
  }, 30_000);

  it('leaves the size of a single call to its caller, which measured the body as sent', () => {
    const item = { type: 'track', userId: 'u', event: 'E', properties: { s: 'é'.repeat(MAX_EVENT_BYTES / 2) } };
    expect(normaliseBatch([item], { sourceId: SOURCE, receivedAt }).errors).toHaveLength(1);
    expect(normaliseBatch([item], { sourceId: SOURCE, receivedAt, sizeChecked: true }).calls).toHaveLength(1);
  });

  it('gives stable event ids per (source, messageId)', () => {
    expect(eventIdFor(SOURCE, 'm')).toBe(eventIdFor(SOURCE, 'm'));
    expect(eventIdFor(SOURCE, 'm')).not.toBe(eventIdFor(WORKSPACE, 'm'));
    // Ids already published stay valid: the same RFC 4122 v5 ids the uuid package makes.
    fc.assert(
      fc.property(fc.uuid(), fc.string({ unit: 'grapheme', maxLength: 300 }), (source, messageId) => {
        expect(eventIdFor(source, messageId)).toBe(uuidv5(`${source}\n${messageId}`, '6f1d3c52-7a0e-4b8e-9c51-2d4f0e9a7b13'));
      }),
    );
  });

  // The hot path skips class-validator: everything it accepts must satisfy the contract, and its
  // envelope must equal the library's.
  it('only produces payloads the contracts accept, and envelopes equal to buildEnvelope', () => {
    const id = fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.constant(undefined), fc.constant(null));
    const json = fc.jsonValue({ maxDepth: 3 });
    const raw = fc.record(
      {
        type: fc.constantFrom('identify', 'track', 'page', 'screen', 'group', 'alias', 'other'),
        userId: id,
        anonymousId: id,
        messageId: id,
        event: id,
        name: id,
        groupId: id,
        previousId: id,
        timestamp: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string(), fc.integer()),
        sentAt: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constant(undefined)),
        properties: fc.oneof(fc.dictionary(fc.string(), json), json),
        traits: fc.oneof(fc.dictionary(fc.string(), json), json),
        context: fc.oneof(fc.dictionary(fc.string(), json), json),
        integrations: fc.oneof(fc.dictionary(fc.string(), fc.boolean()), json),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(raw, (input) => {
        const r = normaliseCall(input, { sourceId: SOURCE, receivedAt });
        if (!r.ok) return;
        const checked = validateContract(eventDefinition(r.call.subject)!.payload, r.call.data);
        expect(checked.ok, JSON.stringify(!checked.ok && checked.errors)).toBe(true);
        const envelopeInput = { subject: r.call.subject, data: r.call.data, workspaceId: WORKSPACE, id: eventIdFor(SOURCE, r.call.messageId), occurredAt: r.call.data.timestamp };
        expect(fastEnvelope('ingestion', envelopeInput, {})).toEqual(checkedEnvelope('ingestion', envelopeInput));
      }),
      { numRuns: 300 },
    );
  });
});
