import { describe, expect, it } from 'vitest';
import { RollupAccumulator, SEP, type CountedFact } from './rollup-deltas';

/** The rollup rows of a list of facts. */
function rollupDeltas(facts: CountedFact[]): RollupAccumulator {
  const sums = new RollupAccumulator();
  for (const fact of facts) sums.add(fact);
  return sums;
}

const WS = '00000000-0000-7000-8000-000000000001';
const at = (iso: string): number => Date.parse(iso);
const sec = (iso: string): number => Date.parse(iso) / 1000;

/** Rows as objects, keyed for lookup: `grain bucket metric dim value` -> count. */
function rows(facts: CountedFact[]): Map<string, number> {
  const { deltas: d } = rollupDeltas(facts);
  return new Map(d.count.map((n, i) => [`${d.grain[i]} ${new Date(d.at[i]! * 1000).toISOString()} ${d.metric[i]} ${d.dim[i]} ${d.value[i]}`, n]));
}

describe('RollupAccumulator', () => {
  it('sums counters per minute (totals and names), hour and 15-minute day slot', () => {
    const sent = (iso: string): CountedFact => ({
      workspaceId: WS,
      at: at(iso),
      actor: 'c1',
      counters: [
        { metric: 'msg.sent', dim: '', value: '', kind: 'all' },
        { metric: 'msg.sent', dim: 'channel', value: 'email', kind: 'all' },
      ],
    });
    const out = rows([sent('2026-11-10T10:00:10Z'), sent('2026-11-10T10:00:50Z'), sent('2026-11-10T10:20:00Z')]);
    expect(out).toEqual(
      new Map([
        ['d 2026-11-10T10:00:00.000Z msg.sent  ', 2],
        ['h 2026-11-10T10:00:00.000Z msg.sent  ', 3],
        ['m 2026-11-10T10:00:00.000Z msg.sent  ', 2],
        ['d 2026-11-10T10:00:00.000Z msg.sent channel email', 2],
        ['h 2026-11-10T10:00:00.000Z msg.sent channel email', 3],
        ['d 2026-11-10T10:15:00.000Z msg.sent  ', 1],
        ['m 2026-11-10T10:20:00.000Z msg.sent  ', 1],
        ['d 2026-11-10T10:15:00.000Z msg.sent channel email', 1],
      ]),
    );
  });

  it('keeps day-only counters per day slot only, and lists distinct actors of unique counters once', () => {
    const track = (actor: string, iso: string): CountedFact => ({
      workspaceId: WS,
      at: at(iso),
      actor,
      counters: [
        { metric: 'event', dim: 'name', value: 'Buy', kind: 'unique' },
        { metric: 'event.prop:Buy', dim: 'prop:plan', value: 'pro', kind: 'day' },
      ],
    });
    const facts = [track('u1', '2026-11-10T10:00:00Z'), track('u1', '2026-11-10T10:01:00Z'), track('u2', '2026-11-10T10:02:00Z')];
    const { deltas, uniques } = rollupDeltas(facts);
    expect(deltas.metric.filter((m) => m.startsWith('event.prop'))).toHaveLength(1);
    expect(deltas.grain[deltas.metric.indexOf('event.prop:Buy')]).toBe('d');
    expect(uniques).toEqual({
      workspaceId: [WS, WS],
      scope: [`event${SEP}name${SEP}Buy`, `event${SEP}name${SEP}Buy`],
      at: [sec('2026-11-10T10:00:00Z'), sec('2026-11-10T10:00:00Z')],
      actor: ['u1', 'u2'],
    });
  });

  it('strips the separator from names and values so scopes split back apart', () => {
    const { deltas, uniques } = rollupDeltas([{ workspaceId: WS, at: at('2026-11-10T10:00:00Z'), actor: 'a', counters: [{ metric: 'event', dim: 'name', value: `a${SEP}b`, kind: 'unique' }] }]);
    expect(deltas.value[0]).toBe('a b');
    expect(uniques.scope[0]!.split(SEP)).toEqual(['event', 'name', 'a b']);
  });
});
