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

/**
 * Sums the counters of facts into rollup rows. Grains per counter kind: `day` counters only per
 * local day; workspace totals and event names also per minute; everything else per hour and day.
 */
export function rollupDeltas(facts: readonly CountedFact[]): { deltas: RollupDeltas; uniques: UniqueCandidates } {
  const deltas: RollupDeltas = { workspaceId: [], grain: [], dim: [], at: [], metric: [], value: [], count: [] };
  const uniques: UniqueCandidates = { workspaceId: [], scope: [], at: [], actor: [] };
  // Rows by (workspace, grain, bucket), then by counter: the outer key changes rarely within a batch.
  const rowsOf = new Map<string, Map<string, number>>();
  const seenUnique = new Set<string>();
  // Consecutive facts mostly share workspace and buckets: remember the last lookup per grain.
  const last: Record<string, { workspaceId: string; at: number; rows: Map<string, number> } | undefined> = {};
  const bucketRows = (workspaceId: string, grain: string, at: number): Map<string, number> => {
    const hit = last[grain];
    if (hit && hit.at === at && hit.workspaceId === workspaceId) return hit.rows;
    const key = `${workspaceId}${grain}${at}`;
    let rows = rowsOf.get(key);
    if (!rows) rowsOf.set(key, (rows = new Map()));
    last[grain] = { workspaceId, at, rows };
    return rows;
  };
  const add = (rows: Map<string, number>, counterKey: string, workspaceId: string, grain: string, at: number, metric: string, dim: string, value: string): void => {
    const row = rows.get(counterKey);
    if (row !== undefined) {
      deltas.count[row]!++;
      return;
    }
    rows.set(counterKey, deltas.count.length);
    deltas.workspaceId.push(workspaceId);
    deltas.grain.push(grain);
    deltas.dim.push(dim);
    deltas.at.push(at);
    deltas.metric.push(metric);
    deltas.value.push(value);
    deltas.count.push(1);
  };

  for (const fact of facts) {
    const ws = fact.workspaceId;
    const minute = floorTo(fact.at, MINUTE_MS);
    const hour = floorTo(fact.at, HOUR_MS);
    const slot = floorTo(fact.at, SLOT_MS);
    const dayRows = bucketRows(ws, 'd', slot);
    let hourRows: Map<string, number> | undefined;
    let minuteRows: Map<string, number> | undefined;
    for (const counter of fact.counters) {
      const metric = clean(counter.metric);
      const dim = clean(counter.dim);
      const value = clean(counter.value);
      const scope = `${metric}${SEP}${dim}${SEP}${value}`;
      add(dayRows, scope, ws, 'd', slot, metric, dim, value);
      if (counter.kind === 'day') continue;
      add((hourRows ??= bucketRows(ws, 'h', hour)), scope, ws, 'h', hour, metric, dim, value);
      if (dim === '' || dim === 'name') add((minuteRows ??= bucketRows(ws, 'm', minute)), scope, ws, 'm', minute, metric, dim, value);
      if (counter.kind === 'unique' && fact.actor !== null) {
        const key = `${ws}${SEP}${scope}${SEP}${slot}${SEP}${fact.actor}`;
        if (seenUnique.has(key)) continue;
        seenUnique.add(key);
        uniques.workspaceId.push(ws);
        uniques.scope.push(scope);
        uniques.at.push(slot);
        uniques.actor.push(fact.actor);
      }
    }
  }
  return { deltas, uniques };
}
