import type { Counter } from './fact-mappers';

/** What the rollup statement needs of a fact: its counters, when it happened, and who did it. */
export interface CountedFact {
  workspaceId: string;
  /** occurred_at in epoch milliseconds. */
  at: number;
  actor: string | null;
  counters: Counter[];
}

/**
 * A batch's rollup increments, summed per row, as columns for one multi-row upsert. Minute and
 * hour buckets are final (UTC). A local-day bucket depends on the workspace's time zone, which
 * only the database knows for sure, so day increments are summed per 15-minute UTC slot here and
 * the statement maps each slot to its local day: every zone's offset is a multiple of 15 minutes,
 * so a local midnight never falls inside a slot.
 */
export interface RollupDeltas {
  workspaceId: string[];
  grain: string[];
  dim: string[];
  /** Bucket start (m, h) or 15-minute slot start (d), in epoch seconds. */
  at: number[];
  metric: string[];
  value: string[];
  count: number[];
}

/** Distinct (workspace, scope, slot, actor) of `unique` counters: candidates for unique_actor rows. */
export interface UniqueCandidates {
  workspaceId: string[];
  scope: string[];
  /** 15-minute slot start, epoch seconds; the statement turns it into the local day. */
  at: number[];
  actor: string[];
}

// Separates parts of keys and of unique_actor.scope; stripped from names and values on the way in.
export const SEP = '\u001f';
const clean = (s: string): string => (s.includes(SEP) ? s.replaceAll(SEP, ' ') : s);

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const SLOT_MS = 900_000;
const floorTo = (ms: number, step: number): number => (ms - (ms % step)) / 1000;

/** One counter's identity in a batch, cleaned once: rows are keyed by this object, not by a string built per event. */
interface CounterKey {
  metric: string;
  dim: string;
  value: string;
  /** metric, dim and value joined by SEP: unique_actor.scope. */
  scope: string;
  /** Also kept per minute: workspace totals and event names. */
  perMinute: boolean;
}

/** Interns counters by (metric, dim, value) with nested maps, so a repeated counter allocates nothing. */
class CounterKeys {
  private readonly byMetric = new Map<string, Map<string, Map<string, CounterKey>>>();
  /** Two raw counters that clean to the same names share one key (and so one row). */
  private readonly byScope = new Map<string, CounterKey>();

  of(counter: Counter): CounterKey {
    let byDim = this.byMetric.get(counter.metric);
    if (!byDim) this.byMetric.set(counter.metric, (byDim = new Map()));
    let byValue = byDim.get(counter.dim);
    if (!byValue) byDim.set(counter.dim, (byValue = new Map()));
    let key = byValue.get(counter.value);
    if (!key) byValue.set(counter.value, (key = this.create(counter)));
    return key;
  }

  private create(counter: Counter): CounterKey {
    const metric = clean(counter.metric);
    const dim = clean(counter.dim);
    const value = clean(counter.value);
    const scope = `${metric}${SEP}${dim}${SEP}${value}`;
    let key = this.byScope.get(scope);
    if (!key) this.byScope.set(scope, (key = { metric, dim, value, scope, perMinute: dim === '' || dim === 'name' }));
    return key;
  }
}

/**
 * Sums the counters of facts into rollup rows. Grains per counter kind: `day` counters only per
 * local day; workspace totals and event names also per minute; everything else per hour and day.
 */
export function rollupDeltas(facts: readonly CountedFact[]): { deltas: RollupDeltas; uniques: UniqueCandidates } {
  const deltas: RollupDeltas = { workspaceId: [], grain: [], dim: [], at: [], metric: [], value: [], count: [] };
  const uniques: UniqueCandidates = { workspaceId: [], scope: [], at: [], actor: [] };
  const counterKeys = new CounterKeys();
  // Rows by (workspace, grain, bucket), then by counter: the outer key changes rarely within a batch.
  const rowsOf = new Map<string, Map<CounterKey, number>>();
  const seenUnique = new Set<string>();
  // Consecutive facts mostly share workspace and buckets: remember the last lookup per grain.
  const last: Record<string, { workspaceId: string; at: number; rows: Map<CounterKey, number> } | undefined> = {};
  const bucketRows = (workspaceId: string, grain: string, at: number): Map<CounterKey, number> => {
    const hit = last[grain];
    if (hit && hit.at === at && hit.workspaceId === workspaceId) return hit.rows;
    const key = `${workspaceId}${grain}${at}`;
    let rows = rowsOf.get(key);
    if (!rows) rowsOf.set(key, (rows = new Map()));
    last[grain] = { workspaceId, at, rows };
    return rows;
  };
  const add = (rows: Map<CounterKey, number>, key: CounterKey, workspaceId: string, grain: string, at: number): void => {
    const row = rows.get(key);
    if (row !== undefined) {
      deltas.count[row]!++;
      return;
    }
    rows.set(key, deltas.count.length);
    deltas.workspaceId.push(workspaceId);
    deltas.grain.push(grain);
    deltas.dim.push(key.dim);
    deltas.at.push(at);
    deltas.metric.push(key.metric);
    deltas.value.push(key.value);
    deltas.count.push(1);
  };

  for (const fact of facts) {
    const ws = fact.workspaceId;
    const slot = floorTo(fact.at, SLOT_MS);
    const dayRows = bucketRows(ws, 'd', slot);
    let hourRows: Map<CounterKey, number> | undefined;
    let minuteRows: Map<CounterKey, number> | undefined;
    for (const counter of fact.counters) {
      const key = counterKeys.of(counter);
      add(dayRows, key, ws, 'd', slot);
      if (counter.kind === 'day') continue;
      const hour = floorTo(fact.at, HOUR_MS);
      add((hourRows ??= bucketRows(ws, 'h', hour)), key, ws, 'h', hour);
      if (key.perMinute) {
        const minute = floorTo(fact.at, MINUTE_MS);
        add((minuteRows ??= bucketRows(ws, 'm', minute)), key, ws, 'm', minute);
      }
      if (counter.kind === 'unique' && fact.actor !== null) {
        const unique = `${ws}${SEP}${key.scope}${SEP}${slot}${SEP}${fact.actor}`;
        if (seenUnique.has(unique)) continue;
        seenUnique.add(unique);
        uniques.workspaceId.push(ws);
        uniques.scope.push(key.scope);
        uniques.at.push(slot);
        uniques.actor.push(fact.actor);
      }
    }
  }
  return { deltas, uniques };
}
