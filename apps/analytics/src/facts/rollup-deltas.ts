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
 * Sums the counters of facts into rollup rows, one fact at a time, so a batch's facts need not be
 * kept to be counted. Grains per counter kind: `day` counters only per local day; workspace totals
 * and event names also per minute; everything else per hour and day.
 */
export class RollupAccumulator {
  readonly deltas: RollupDeltas = { workspaceId: [], grain: [], dim: [], at: [], metric: [], value: [], count: [] };
  readonly uniques: UniqueCandidates = { workspaceId: [], scope: [], at: [], actor: [] };
  private readonly counterKeys = new CounterKeys();
  // Rows by (workspace, grain, bucket), then by counter: the outer key changes rarely within a batch.
  private readonly rowsOf = new Map<string, Map<CounterKey, number>>();
  private readonly seenUnique = new Set<string>();
  // Consecutive facts mostly share workspace and buckets: remember the last lookup per grain.
  private readonly last: Record<string, { workspaceId: string; at: number; rows: Map<CounterKey, number> } | undefined> = {};

  add(fact: CountedFact): void {
    const ws = fact.workspaceId;
    const slot = floorTo(fact.at, SLOT_MS);
    const dayRows = this.bucketRows(ws, 'd', slot);
    let hourRows: Map<CounterKey, number> | undefined;
    let minuteRows: Map<CounterKey, number> | undefined;
    for (const counter of fact.counters) {
      const key = this.counterKeys.of(counter);
      this.count(dayRows, key, ws, 'd', slot);
      if (counter.kind === 'day') continue;
      const hour = floorTo(fact.at, HOUR_MS);
      this.count((hourRows ??= this.bucketRows(ws, 'h', hour)), key, ws, 'h', hour);
      if (key.perMinute) {
        const minute = floorTo(fact.at, MINUTE_MS);
        this.count((minuteRows ??= this.bucketRows(ws, 'm', minute)), key, ws, 'm', minute);
      }
      if (counter.kind === 'unique' && fact.actor !== null) {
        const unique = `${ws}${SEP}${key.scope}${SEP}${slot}${SEP}${fact.actor}`;
        if (this.seenUnique.has(unique)) continue;
        this.seenUnique.add(unique);
        this.uniques.workspaceId.push(ws);
        this.uniques.scope.push(key.scope);
        this.uniques.at.push(slot);
        this.uniques.actor.push(fact.actor);
      }
    }
  }

  private bucketRows(workspaceId: string, grain: string, at: number): Map<CounterKey, number> {
    const hit = this.last[grain];
    if (hit && hit.at === at && hit.workspaceId === workspaceId) return hit.rows;
    const key = `${workspaceId}${grain}${at}`;
    let rows = this.rowsOf.get(key);
    if (!rows) this.rowsOf.set(key, (rows = new Map()));
    this.last[grain] = { workspaceId, at, rows };
    return rows;
  }

  private count(rows: Map<CounterKey, number>, key: CounterKey, workspaceId: string, grain: string, at: number): void {
    const d = this.deltas;
    const row = rows.get(key);
    if (row !== undefined) {
      d.count[row]!++;
      return;
    }
    rows.set(key, d.count.length);
    d.workspaceId.push(workspaceId);
    d.grain.push(grain);
    d.dim.push(key.dim);
    d.at.push(at);
    d.metric.push(key.metric);
    d.value.push(key.value);
    d.count.push(1);
  }
}
