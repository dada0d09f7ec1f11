import fc from 'fast-check';
import type { SegmentDefinition, SegmentNode } from '../src/definition/definition.types';

export const WS = '0190c0de-0000-7000-8000-00000000beef';
export const SEG_A = '0190c0de-0000-7000-8000-0000000000aa';
export const SEG_B = '0190c0de-0000-7000-8000-0000000000bb';

/** Contact ids spread over the id space (different first hex digits), like real ones. */
export const contactId = (i: number): string => `${'0123456789abcdef'[(i * 5) % 16]}190c0de-0000-7000-8000-${(i + 1).toString(16).padStart(12, '0')}`;

const minutes = fc.record({ amount: fc.integer({ min: 1, max: 180 }), unit: fc.constant('minutes' as const) });
const duration = fc.oneof(minutes, fc.record({ amount: fc.integer({ min: 1, max: 3 }), unit: fc.constantFrom('hours' as const, 'days' as const) }));
const isoNear = fc.integer({ min: -4000, max: 600 }).map((m) => new Date(Date.parse('2026-02-27T22:30:00Z') + m * 60_000).toISOString());

const country = fc.oneof(
  fc.record({ operator: fc.constantFrom('equals', 'not_equals', 'contains', 'starts_with'), value: fc.constantFrom('BR', 'BE', 'B', 'US') }),
  fc.record({ operator: fc.constant('in'), value: fc.subarray(['BR', 'BE', 'US'], { minLength: 1 }) }),
  fc.record({ operator: fc.constantFrom('exists', 'not_exists') }),
).map((f) => ({ type: 'attribute', attribute: 'country', valueType: 'string', ...f }) as SegmentNode);

const age = fc.oneof(
  fc.record({ operator: fc.constantFrom('equals', 'not_equals', 'gt', 'gte', 'lt', 'lte'), value: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ operator: fc.constant('between'), value: fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 50, max: 100 })) }),
  fc.record({ operator: fc.constant('in'), value: fc.uniqueArray(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 3 }) }),
).map((f) => ({ type: 'attribute', attribute: 'age', valueType: 'number', ...f }) as SegmentNode);

const vip = fc.oneof(fc.record({ operator: fc.constant('equals'), value: fc.boolean() }), fc.record({ operator: fc.constant('exists') })).map(
  (f) => ({ type: 'attribute', attribute: 'vip', valueType: 'boolean', ...f }) as SegmentNode,
);

const signup = fc.oneof(
  fc.record({ operator: fc.constantFrom('within_last', 'more_than_ago'), value: duration }),
  fc.record({ operator: fc.constant('anniversary_today') }),
  fc.record({ operator: fc.constantFrom('gt', 'lt'), value: isoNear }),
).map((f) => ({ type: 'attribute', attribute: 'signup', valueType: 'date', ...f }) as SegmentNode);

const where = fc.oneof(
  fc.constant(undefined),
  fc.record({ property: fc.constant('amount'), valueType: fc.constant('number' as const), operator: fc.constantFrom('gt', 'lte'), value: fc.integer({ min: 0, max: 100 }) }).map((f) => [f]),
  fc.record({ property: fc.constant('sku'), valueType: fc.constant('string' as const), operator: fc.constant('equals'), value: fc.constantFrom('a', 'b') }).map((f) => [f]),
);

const window = fc.oneof(
  fc.constant(undefined),
  fc.record({ last: duration }),
  fc.tuple(isoNear, isoNear).map(([a, b]) => (a < b ? { from: a, to: b } : { from: b, to: a })),
);

const event = fc
  .record({
    event: fc.constantFrom('buy', 'open'),
    mode: fc.constantFrom('performed', 'not', 'count'),
    count: fc.record({ operator: fc.constantFrom('at_least' as const, 'at_most' as const, 'exactly' as const), value: fc.integer({ min: 0, max: 3 }) }),
    window,
    where,
  })
  .map(({ event, mode, count, window, where }) => {
    const node: Record<string, unknown> = { type: 'event', event };
    if (mode === 'not') node.performed = false;
    if (mode === 'count') node.count = count;
    if (window) node.window = window;
    if (where) node.where = where;
    return node as unknown as SegmentNode;
  });

const eventTime = fc
  .record({
    event: fc.constantFrom('buy', 'open'),
    which: fc.constantFrom('first' as const, 'last' as const),
    op: fc.oneof(fc.record({ operator: fc.constantFrom('within_last' as const, 'more_than_ago' as const), value: duration }), fc.record({ operator: fc.constantFrom('before' as const, 'after' as const), value: isoNear })),
  })
  .map(({ event, which, op }) => ({ type: 'event_time', event, which, ...op }) as SegmentNode);

const consent = fc.constantFrom('subscribed', 'unsubscribed', 'never_asked').map((state) => ({ type: 'consent', channel: 'whatsapp', state }) as SegmentNode);

const tag = fc.constantFrom('vip', 'churn').map((t) => ({ type: 'tag', tag: t }) as SegmentNode);
const list = fc.constant({ type: 'list', listId: 'fair' } as SegmentNode);
const object = fc
  .record({ value: fc.integer({ min: 0, max: 100 }), count: fc.record({ operator: fc.constantFrom('at_least' as const, 'at_most' as const), value: fc.integer({ min: 0, max: 2 }) }) })
  .map(({ value, count }) => ({ type: 'object', objectType: 'order', where: [{ property: 'total', valueType: 'number', operator: 'gt', value }], count }) as SegmentNode);
const message = fc
  .record({ action: fc.constantFrom('received' as const, 'opened' as const, 'clicked' as const), performed: fc.boolean(), window: fc.oneof(fc.constant(undefined), fc.record({ last: duration })) })
  .map(({ action, performed, window }) => ({ type: 'message', action, channel: 'email', performed, ...(window ? { window } : {}) }) as SegmentNode);

export function arbDefinition(withRef: boolean): fc.Arbitrary<SegmentDefinition> {
  const leaves = [country, age, vip, signup, event, event, eventTime, consent, tag, list, object, message];
  if (withRef) leaves.push(fc.constant({ type: 'segment', segmentId: SEG_B } as SegmentNode));
  const leaf = fc.oneof(...leaves);
  const { node } = fc.letrec<{ node: SegmentNode }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.record({ type: fc.constantFrom('and' as const, 'or' as const), children: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
      fc.record({ type: fc.constant('not' as const), child: tie('node') }),
    ),
  }));
  return node.map((root) => ({ version: 1, root }));
}

export type Op =
  | { kind: 'upsert'; contact: number; attrs: Record<string, unknown>; unset: string[] }
  /** Several upserts in one bus batch; `repeatFirst` delivers the first one twice within it. */
  | { kind: 'upserts'; changes: { contact: number; attrs: Record<string, unknown>; unset: string[] }[]; repeatFirst: boolean }
  | { kind: 'events'; events: { person: number; name: string; offsetMinutes: number; properties: Record<string, unknown> }[] }
  | { kind: 'consent'; contact: number; state: string }
  | { kind: 'merge'; survivor: number; merged: number }
  | { kind: 'erase'; contact: number }
  | { kind: 'redeliver' }
  | { kind: 'tag'; contact: number; tag: string; added: boolean }
  | { kind: 'list'; contacts: number[]; added: boolean }
  | { kind: 'object'; record: number; contact: number; total: number; deleted: boolean }
  | { kind: 'engagement'; contact: number; action: 'received' | 'opened' | 'clicked'; offsetMinutes: number }
  | { kind: 'advance'; minutes: number };

const contact = fc.integer({ min: 0, max: 5 });
const attrs = fc.record(
  {
    country: fc.constantFrom('BR', 'BE', 'US', 5, null),
    age: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constant('42')),
    vip: fc.boolean(),
    signup: fc.oneof(fc.constantFrom('1990-02-27', '1992-02-29', '1990-02-28', '1990-03-01', 'garbage', '2026-13-45'), isoNear),
    timezone: fc.constantFrom('Pacific/Kiritimati', 'Pacific/Pago_Pago', 'America/Sao_Paulo', 'UTC', 'Not/AZone'),
    externalId: contact.map((i) => `user-${i}`),
  },
  { requiredKeys: [] },
);

export function arbOps(): fc.Arbitrary<Op[]> {
  const op: fc.Arbitrary<Op> = fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('upsert' as const), contact, attrs, unset: fc.subarray(['country', 'age', 'signup', 'timezone']) }), weight: 4 },
    {
      arbitrary: fc.record({
        kind: fc.constant('upserts' as const),
        changes: fc.array(fc.record({ contact, attrs, unset: fc.subarray(['country', 'age', 'signup', 'timezone']) }), { minLength: 2, maxLength: 5 }),
        repeatFirst: fc.boolean(),
      }),
      weight: 2,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('events' as const),
        events: fc.array(
          fc.record({
            person: contact,
            name: fc.constantFrom('buy', 'open'),
            offsetMinutes: fc.oneof(fc.integer({ min: -180, max: 30 }), fc.integer({ min: -3000, max: 120 })),
            properties: fc.record({ amount: fc.integer({ min: 0, max: 100 }), sku: fc.constantFrom('a', 'b') }, { requiredKeys: [] }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
      }),
      weight: 5,
    },
    { arbitrary: fc.record({ kind: fc.constant('consent' as const), contact, state: fc.constantFrom('subscribed', 'unsubscribed') }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('merge' as const), survivor: contact, merged: contact }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('erase' as const), contact }), weight: 1 },
    { arbitrary: fc.constant({ kind: 'redeliver' as const }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('tag' as const), contact, tag: fc.constantFrom('vip', 'churn'), added: fc.boolean() }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('list' as const), contacts: fc.uniqueArray(contact, { minLength: 1, maxLength: 3 }), added: fc.boolean() }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('object' as const), record: fc.integer({ min: 1, max: 4 }), contact, total: fc.integer({ min: 0, max: 100 }), deleted: fc.boolean() }), weight: 1 },
    {
      arbitrary: fc.record({ kind: fc.constant('engagement' as const), contact, action: fc.constantFrom('received' as const, 'opened' as const, 'clicked' as const), offsetMinutes: fc.integer({ min: -600, max: 10 }) }),
      weight: 1,
    },
    { arbitrary: fc.record({ kind: fc.constant('advance' as const), minutes: fc.oneof(fc.integer({ min: 1, max: 90 }), fc.integer({ min: 1, max: 1500 })) }), weight: 4 },
  );
  // Most contacts exist with an externalId from the start, so events resolve; the rest arrive later (or never).
  const initial = fc.tuple(...[0, 1, 2, 3, 4].map((i) => attrs.map((a) => ({ kind: 'upsert' as const, contact: i, attrs: { ...a, externalId: `user-${i}` }, unset: [] as string[] }))));
  return fc.tuple(initial, fc.array(op, { minLength: 4, maxLength: 24 })).map(([first, rest]) => [...first, ...rest]);
}
