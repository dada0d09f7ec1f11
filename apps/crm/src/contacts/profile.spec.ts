import { describe, expect, it } from 'vitest';
import { applyAttributes, applyValid, inferType, mergeAttributes, pickConsent, type ApplyOptions } from './profile';

const opts = (over: Partial<ApplyOptions> = {}): ApplyOptions => ({ definitions: new Map(), policy: 'create', at: '2026-01-01T00:00:00.000Z', force: true, ...over });

describe('applyAttributes', () => {
  it('sets, unsets, increments, adds and removes', () => {
    const r = applyAttributes({ attributes: { n: 1, l: ['a'], gone: 'x' }, attrTs: {} }, { n: { $inc: 2 }, l: { $add: ['b', 'a'] }, gone: null, s: 'v' }, opts({ definitions: new Map([['n', 'number'], ['l', 'list'], ['gone', 'string']]) }));
    expect(r.errors).toEqual([]);
    expect(r.attributes).toEqual({ n: 3, l: ['a', 'b'], s: 'v' });
    expect(r.unset).toEqual(['gone']);
    expect(r.newDefinitions).toEqual([{ name: 's', type: 'string' }]);
    expect(applyAttributes({ attributes: { l: ['a', 'b'] }, attrTs: {} }, { l: { $remove: ['a'] } }, opts({ definitions: new Map([['l', 'list']]) })).attributes).toEqual({ l: ['b'] });
  });

  it('refuses wrong types with paths and applies nothing', () => {
    const state = { attributes: { n: 1 }, attrTs: {} };
    const r = applyAttributes(state, { n: 'one', ok: 1, s: { $inc: 1 }, 'bad name': 1 }, opts({ definitions: new Map([['n', 'number'], ['s', 'string']]) }));
    expect(r.errors.map((e) => e.path).sort()).toEqual(['attributes.bad name', 'attributes.n', 'attributes.s']);
    expect(r.attributes).toEqual({ n: 1 });
  });

  it('rejects unknown attributes when the workspace says so', () => {
    expect(applyAttributes({ attributes: {}, attrTs: {} }, { x: 1 }, opts({ policy: 'reject' })).errors[0]!.path).toBe('attributes.x');
  });

  it('lets an older bus write lose to a newer one, per field, including unsets', () => {
    const state = { attributes: { a: 'new' }, attrTs: { a: '2026-01-02T00:00:00.000Z', b: '2026-01-02T00:00:00.000Z' } };
    const r = applyAttributes(state, { a: 'old', b: 'old', c: 'old' }, opts({ force: false }));
    expect(r.attributes).toEqual({ a: 'new', c: 'old' });
  });

  it('applyValid keeps the good fields of a bus event', () => {
    const r = applyValid({ attributes: {}, attrTs: {} }, { n: 'x', ok: true }, opts({ definitions: new Map([['n', 'number']]) }));
    expect(r.attributes).toEqual({ ok: true });
    expect(r.errors.map((e) => e.path)).toEqual(['attributes.n']);
  });
});

describe('mergeAttributes', () => {
  it('takes the more recently changed side per attribute, the winner on ties', () => {
    const winner = { attributes: { a: 'w', b: 'w', t: 'w' }, attrTs: { a: '2026-01-01', b: '2026-01-03', t: '2026-01-02' } };
    const loser = { attributes: { a: 'l', b: 'l', c: 'l', t: 'l' }, attrTs: { a: '2026-01-02', b: '2026-01-01', c: '2026-01-01', t: '2026-01-02', d: '2026-01-05' } };
    expect(mergeAttributes(winner, loser).attributes).toEqual({ a: 'l', b: 'w', c: 'l', t: 'w' });
    const unsetNewer = mergeAttributes({ attributes: { d: 1 }, attrTs: { d: '2026-01-01' } }, loser);
    expect(unsetNewer.attributes.d).toBeUndefined();
  });
});

describe('pickConsent and inferType', () => {
  it('most recent wins; an unsubscribe wins a tie', () => {
    const sub = { state: 'subscribed', source: 'api', changedAt: '2026-01-02' };
    const unsub = { state: 'unsubscribed', source: 'sms_stop', changedAt: '2026-01-01' };
    expect(pickConsent(sub, unsub)).toBe(sub);
    expect(pickConsent({ ...sub, changedAt: '2026-01-01' }, unsub)).toBe(unsub);
  });

  it('infers types', () => {
    expect([inferType('x'), inferType('2026-01-01T00:00:00Z'), inferType(1), inferType(true), inferType([1]), inferType({}), inferType(Number.NaN)]).toEqual(['string', 'datetime', 'number', 'boolean', 'list', 'object', undefined]);
  });
});
