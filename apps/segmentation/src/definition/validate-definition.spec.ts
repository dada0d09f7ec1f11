import { describe, expect, it } from 'vitest';
import type { SegmentDefinition } from './definition.types';
import { validateDefinition } from './validate-definition';
import { definitionDeps } from './definition-deps';
import { isTimeBased } from './compile-next-check';

const A = '0190c0de-0000-7000-8000-000000000001';
const B = '0190c0de-0000-7000-8000-000000000002';

const brazilRepeatBuyers = {
  version: 1,
  root: {
    type: 'and',
    children: [
      { type: 'event', event: 'purchase', count: { operator: 'at_least', value: 2 }, window: { last: { amount: 30, unit: 'days' } } },
      { type: 'event', event: 'email_opened', performed: false },
      { type: 'attribute', attribute: 'country', valueType: 'string', operator: 'equals', value: 'BR' },
      { type: 'consent', channel: 'whatsapp', state: 'subscribed' },
    ],
  },
};

describe('validateDefinition', () => {
  it('accepts the README example and indexes what it reads', () => {
    expect(validateDefinition(brazilRepeatBuyers)).toEqual([]);
    expect(definitionDeps(brazilRepeatBuyers as SegmentDefinition, () => undefined)).toEqual(['attr:country', 'consent', 'event:email_opened', 'event:purchase']);
    expect(isTimeBased(brazilRepeatBuyers as SegmentDefinition, () => undefined)).toBe(true);
  });

  it('points at the offending node: unknown operator, wrong operator for the type, bad window, unknown type', () => {
    const errors = validateDefinition({
      version: 1,
      root: {
        type: 'or',
        children: [
          { type: 'attribute', attribute: 'country', valueType: 'string', operator: 'like', value: 'B' },
          { type: 'attribute', attribute: 'age', valueType: 'number', operator: 'starts_with', value: 3 },
          { type: 'event', event: 'purchase', window: { last: { amount: 400, unit: 'days' } } },
          { type: 'weather', sunny: true },
          { type: 'attribute', attribute: 'signup', valueType: 'date', operator: 'between', value: ['2024-01-01', 'yesterday'] },
        ],
      },
    });
    expect(errors.map((e) => e.path)).toEqual([
      'root.children[0].operator',
      'root.children[1].operator',
      'root.children[2].window.last',
      'root.children[3].type',
      'root.children[4].value[1]',
    ]);
    expect(errors[1]!.message).toMatch(/does not apply to number/);
    expect(errors[2]!.message).toMatch(/out of range/);
  });

  it('refuses cycles between segments and unknown references', () => {
    const defs: Record<string, SegmentDefinition> = {
      [A]: { version: 1, root: { type: 'segment', segmentId: B } },
      [B]: { version: 1, root: { type: 'tag', tag: 'vip' } },
    };
    // Saving B to reference A would close A -> B -> A.
    const errors = validateDefinition({ version: 1, root: { type: 'not', child: { type: 'segment', segmentId: A } } }, (id) => defs[id], B);
    expect(errors).toEqual([{ path: 'root.child.segmentId', message: expect.stringMatching(/cycle/) }]);
    expect(validateDefinition({ version: 1, root: { type: 'segment', segmentId: B } }, () => undefined)[0]!.path).toBe('root.segmentId');
  });

  it('limits tree size and depth', () => {
    const wide = { version: 1, root: { type: 'and', children: Array.from({ length: 20 }, () => ({ type: 'and', children: [{ type: 'tag', tag: 'a' }, { type: 'tag', tag: 'b' }] })) } };
    expect(validateDefinition(wide).some((e) => /at most 40 nodes/.test(e.message))).toBe(true);
    let deep: unknown = { type: 'tag', tag: 'x' };
    for (let i = 0; i < 7; i++) deep = { type: 'not', child: deep };
    expect(validateDefinition({ version: 1, root: deep }).some((e) => /deeper than 6/.test(e.message))).toBe(true);
  });

  it('rejects values of the wrong shape and unknown fields', () => {
    const errors = validateDefinition({ version: 2, root: { type: 'event', event: 'x', count: { operator: 'at_least', value: -1 }, extra: 1 } });
    expect(errors.map((e) => e.path).sort()).toEqual(['root.count.value', 'root.extra', 'version']);
  });
});
