/** Bucket sizes a report may use; each is answered from one rollup grain. */
export const BUCKETS = ['minute', 'hour', 'day', 'week', 'month'] as const;
export type BucketSize = (typeof BUCKETS)[number];

export const MAX_BUCKETS = 10_000;

/** m: UTC minute rows; h: UTC hour rows; d: local-day rows (weeks and months are summed from days). */
export const GRAIN_OF: Record<BucketSize, 'm' | 'h' | 'd'> = { minute: 'm', hour: 'h', day: 'd', week: 'd', month: 'd' };

const APPROX_MS: Record<BucketSize, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000, month: 28 * 86_400_000 };

export interface ReportRange {
  from: Date;
  to: Date;
  bucket: BucketSize;
  timezone: string;
}

export class RangeError400 extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

export function isValidTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a requested range: ordered, and at most MAX_BUCKETS buckets of the chosen size. Minute
 * rollups exist only for workspace totals and event names (`minuteOk` false for other breakdowns).
 */
export function checkRange(from: Date, to: Date, bucket: BucketSize, minuteOk = true): void {
  if (!(to.getTime() > from.getTime())) throw new RangeError400('to', 'to must be after from');
  if (bucket === 'minute' && !minuteOk) throw new RangeError400('bucket', 'minute buckets are kept for workspace totals and event names only; use hour or larger');
  // A month is at least 28 days, so this bound never under-counts.
  const buckets = Math.ceil((to.getTime() - from.getTime()) / APPROX_MS[bucket]);
  if (buckets > MAX_BUCKETS) throw new RangeError400('bucket', `the range holds about ${buckets} ${bucket} buckets; at most ${MAX_BUCKETS} are allowed, choose a larger bucket or a shorter range`);
}

/** Rate as a fraction with 4 decimals; null when the denominator is zero. */
export function rate(numerator: number, denominator: number): number | null {
  return denominator > 0 ? Math.round((numerator / denominator) * 10_000) / 10_000 : null;
}
