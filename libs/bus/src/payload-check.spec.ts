import { plainToInstance } from 'class-transformer';
import { getMetadataStorage } from 'class-validator';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { declaresTransforms, EVENTS, MESSAGE_STATUS_CHANGED_V1, STEP_COMPLETED_V1, STEP_COMPLETED_V2, validateContract } from '@tessera/contracts';
import { checkPayload, plainlyValid } from './payload-check';

type Class = new () => object;

// A valid journeys.step.completed.v1 payload, the item of a nested list (journeys.step.completed.v2).
const STEP = { instanceId: '0190a5b4-8c2e-7d3f-9a1b-2c3d4e5f6a7b', journeyId: '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f', journeyVersion: 1, contactId: '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f', at: '2026-11-10T10:00:00.000Z', stepId: 's', stepType: 'send', outcome: 'sent' };

// Values that pass or break the usual decorators: ids, dates, enums' members, sizes, types.
const POOL: unknown[] = [
  [STEP], [STEP, { ...STEP, journeyVersion: 0 }],
  '0190a5b4-8c2e-7d3f-9a1b-2c3d4e5f6a7b', '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f', 'not-a-uuid', '', 'a'.repeat(64), 'x'.repeat(300), 'x'.repeat(2000),
  '2026-11-10T10:00:00.000Z', '2026-11-10', '10/11/2026', 'email', 'sms', 'sent', 'track', 'api', 'variant:A',
  0, 1, -1, 1.5, 2 ** 40, true, false, null, undefined, [], ['a'], [1], {}, { a: 1 }, { plan: 'pro' },
];

function propertiesOf(cls: Class): { name: string; values: unknown[] }[] {
  const metas = getMetadataStorage().getTargetValidationMetadatas(cls, undefined as unknown as string, false, false, undefined);
  return Object.entries(getMetadataStorage().groupByPropertyName(metas)).map(([name, list]) => {
    const allowed = list.flatMap((m) => (Array.isArray(m.constraints?.[0]) ? (m.constraints[0] as unknown[]) : typeof m.constraints?.[0] === 'object' && m.constraints[0] ? Object.values(m.constraints[0] as object) : []));
    return { name, values: [...POOL, ...allowed] };
  });
}

/** Values each property accepts on its own (class-validator checks properties independently). */
function validPerProperty(cls: Class, props: { name: string; values: unknown[] }[]): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  for (const { name, values } of props) {
    out.set(name, values.filter((v) => {
      const r = validateContract(cls, { [name]: v });
      return r.ok || !r.errors.some((e) => e.path === name || e.path.startsWith(`${name}.`));
    }));
  }
  return out;
}

describe('checkPayload', () => {
  it('takes the fast path for a valid payload and returns what validateContract returns', () => {
    const plain = { messageId: '0190a5b4-8c2e-7d3f-9a1b-2c3d4e5f6a7b', contactId: '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f', channel: 'email', templateId: 't', status: 'sent', occurredAt: '2026-11-10T10:00:00.000Z' };
    expect(plainlyValid(plainToInstance(MESSAGE_STATUS_CHANGED_V1.payload, plain))).toBe(true);
    expect(checkPayload(MESSAGE_STATUS_CHANGED_V1.payload, plain)).toEqual(validateContract(MESSAGE_STATUS_CHANGED_V1.payload, plain));
  });

  it('words errors as validateContract does', () => {
    const plain = { messageId: 'nope', channel: 'pigeon' };
    expect(checkPayload(MESSAGE_STATUS_CHANGED_V1.payload, plain)).toEqual(validateContract(MESSAGE_STATUS_CHANGED_V1.payload, plain));
    expect(checkPayload(MESSAGE_STATUS_CHANGED_V1.payload, 'text')).toEqual(validateContract(MESSAGE_STATUS_CHANGED_V1.payload, 'text'));
  });

  // The fast path may only accept what class-validator accepts; anything else falls back to it.
  it.each(Object.keys(EVENTS))('%s: accepts exactly what validateContract accepts', (subject) => {
    const cls = (EVENTS as Record<string, { payload: Class }>)[subject]!.payload;
    const props = propertiesOf(cls);
    const valid = validPerProperty(cls, props);
    const value = (name: string, all: unknown[]): fc.Arbitrary<unknown> => {
      const good = valid.get(name)!;
      return good.length ? fc.oneof({ arbitrary: fc.constantFrom(...good), weight: 9 }, { arbitrary: fc.constantFrom(...all), weight: 1 }) : fc.constantFrom(...all);
    };
    const payload = fc.record(Object.fromEntries(props.map((p) => [p.name, value(p.name, p.values)])), { requiredKeys: [] });
    let accepted = 0;
    fc.assert(
      fc.property(payload, (plain) => {
        const expected = validateContract(cls, plain);
        const fast = plainlyValid(plainToInstance(cls, plain));
        if (fast) accepted++;
        expect(fast && !expected.ok).toBe(false);
        const checked = checkPayload(cls, plain);
        expect(checked).toEqual(expected);
        // The same instance plainToInstance makes: same class, same values (checkPayload copies instead).
        if (checked.ok && expected.ok) expect(checked.value).toStrictEqual(expected.value);
      }),
      { numRuns: 80, seed: 7 },
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it('copies nested contract objects into their classes, as plainToInstance does', () => {
    const plain = { steps: [STEP] };
    const checked = checkPayload(STEP_COMPLETED_V2.payload, plain);
    const expected = validateContract(STEP_COMPLETED_V2.payload, plain);
    expect(checked).toEqual(expected);
    expect(checked.ok && checked.value.steps[0]).toBeInstanceOf(STEP_COMPLETED_V1.payload);
    expect(declaresTransforms(STEP_COMPLETED_V2.payload)).toBe(true);
    expect(declaresTransforms(STEP_COMPLETED_V1.payload)).toBe(false);
  });

  it('keeps the prototype of a payload that carries a __proto__ key', () => {
    const plain = JSON.parse('{"__proto__": {"polluted": true}, "messageId": "nope"}') as object;
    const result = checkPayload(MESSAGE_STATUS_CHANGED_V1.payload, plain);
    expect(result.ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
