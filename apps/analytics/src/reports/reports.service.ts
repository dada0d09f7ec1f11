import { BadRequestException, Injectable } from '@nestjs/common';
import { MESSAGE_STATUSES } from '@tessera/contracts';
import { WorkspacesRepository } from '../workspaces/workspaces.repository';
import type { EventsReportQuery, JourneyReportQuery, MessagingReportQuery, RangeQuery, SegmentReportQuery } from './reports.dto';
import { ReportsRepository, type SeriesRow } from './reports.repository';
import { twoProportionZTest } from './stats';
import { checkRange, rate, RangeError400, type ReportRange } from './time-buckets';

interface ReportHead {
  report: string;
  from: string;
  to: string;
  bucket: string;
  timezone: string;
}

export interface Report extends ReportHead {
  /** Flat rows (also the CSV body). */
  rows: Record<string, unknown>[];
  [extra: string]: unknown;
}

const MESSAGING_RATES = (c: Record<string, number>): Record<string, number | null> => ({
  deliveryRate: rate(c['delivered']!, c['sent']!),
  openRate: rate(c['opened']!, c['delivered']!),
  clickRate: rate(c['clicked']!, c['delivered']!),
  bounceRate: rate(c['bounced']!, c['sent']!),
  unsubscribeRate: rate(c['unsubscribed']!, c['delivered']!),
  failureRate: rate(c['failed']!, c['sent']!),
});
const SEP = '\u001f';

@Injectable()
export class ReportsService {
  constructor(
    private readonly reports: ReportsRepository,
    private readonly workspaces: WorkspacesRepository,
  ) {}

  private async range(workspaceId: string, q: RangeQuery, minuteOk = true): Promise<ReportRange> {
    const from = new Date(q.from);
    const to = new Date(q.to);
    const bucket = q.bucket ?? 'day';
    try {
      checkRange(from, to, bucket, minuteOk);
    } catch (e) {
      if (e instanceof RangeError400) throw new BadRequestException({ message: e.message, errors: [{ path: e.path, messages: [e.message] }] });
      throw e;
    }
    return { from, to, bucket, timezone: await this.workspaces.timezone(workspaceId) };
  }

  private head(name: string, r: ReportRange): ReportHead {
    return { report: name, from: r.from.toISOString(), to: r.to.toISOString(), bucket: r.bucket, timezone: r.timezone };
  }

  async messaging(workspaceId: string, q: MessagingReportQuery): Promise<Report> {
    const r = await this.range(workspaceId, q, !q.groupBy);
    const dim = q.groupBy ?? '';
    const [buckets, series] = await Promise.all([this.reports.buckets(r), this.reports.series(workspaceId, r, { metrics: MESSAGE_STATUSES.map((s) => `msg.${s}`), dim })]);
    const empty = (): Record<string, number> => Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, 0]));
    const cells = new Map<string, Record<string, number>>();
    const keys = new Set<string>();
    const totals = new Map<string, Record<string, number>>();
    for (const row of series) {
      const status = row.metric.slice('msg.'.length);
      keys.add(row.value);
      const cell = cells.get(`${row.bucket}|${row.value}`) ?? empty();
      cell[status]! += row.count;
      cells.set(`${row.bucket}|${row.value}`, cell);
      const total = totals.get(row.value) ?? empty();
      total[status]! += row.count;
      totals.set(row.value, total);
    }
    if (!dim) keys.add('');
    const sortedKeys = [...keys].sort();
    const rows = buckets.flatMap((bucket) =>
      sortedKeys.map((key) => {
        const c = cells.get(`${bucket}|${key}`) ?? empty();
        return { bucket, ...(dim ? { [dim]: key } : {}), ...c, ...MESSAGING_RATES(c) };
      }),
    );
    const totalRows = sortedKeys.map((key) => {
      const c = totals.get(key) ?? empty();
      return { ...(dim ? { [dim]: key } : {}), ...c, ...MESSAGING_RATES(c) };
    });
    return { ...this.head('messaging', r), groupBy: dim || null, totals: totalRows, rows };
  }

  async journey(workspaceId: string, journeyId: string, q: JourneyReportQuery): Promise<Report> {
    const r = await this.range(workspaceId, q, false);
    const windowHours = q.attributionWindowHours ?? 168;
    const [buckets, perJourney, steps, exits, conversions] = await Promise.all([
      this.reports.buckets(r),
      this.reports.series(workspaceId, r, { metrics: ['journey.entered', 'journey.exited', 'journey.goal', 'journey.message_requested'], dim: 'journey', values: [journeyId] }),
      this.reports.series(workspaceId, r, { metrics: ['journey.step.completed', 'journey.step.outcome', 'journey.message_requested'], dim: 'step', valuePrefix: `${journeyId}/` }),
      this.reports.series(workspaceId, r, { metrics: ['journey.exited'], dim: 'exit_kind', valuePrefix: `${journeyId}/` }),
      this.reports.journeyConversions(workspaceId, journeyId, r, windowHours),
    ]);
    const sum = (rows: SeriesRow[], metric: string): number => rows.filter((x) => x.metric === metric).reduce((a, x) => a + x.count, 0);
    const rows = buckets.map((bucket) => {
      const inBucket = perJourney.filter((x) => x.bucket === bucket);
      return { bucket, entered: sum(inBucket, 'journey.entered'), goals: sum(inBucket, 'journey.goal'), exited: sum(inBucket, 'journey.exited'), messagesRequested: sum(inBucket, 'journey.message_requested') };
    });
    const stepMap = new Map<string, { stepId: string; completed: number; messagesRequested: number; outcomes: Record<string, number> }>();
    for (const row of steps) {
      const [, stepId = '', ...outcome] = row.value.split('/');
      const step = stepMap.get(stepId) ?? { stepId, completed: 0, messagesRequested: 0, outcomes: {} };
      if (row.metric === 'journey.step.completed') step.completed += row.count;
      else if (row.metric === 'journey.message_requested') step.messagesRequested += row.count;
      else step.outcomes[outcome.join('/')] = (step.outcomes[outcome.join('/')] ?? 0) + row.count;
      stepMap.set(stepId, step);
    }
    const exitKinds: Record<string, number> = {};
    for (const row of exits) {
      const kind = row.value.slice(journeyId.length + 1);
      exitKinds[kind] = (exitKinds[kind] ?? 0) + row.count;
    }
    const instances = conversions.reduce((a, x) => a + x.instances, 0);
    const converted = conversions.reduce((a, x) => a + x.conversions, 0);
    return {
      ...this.head('journey', r),
      journeyId,
      totals: { entered: sum(perJourney, 'journey.entered'), exited: sum(perJourney, 'journey.exited'), goals: sum(perJourney, 'journey.goal'), messagesRequested: sum(perJourney, 'journey.message_requested') },
      exits: exitKinds,
      steps: [...stepMap.values()].sort((a, b) => a.stepId.localeCompare(b.stepId)),
      conversion: { attributionWindowHours: windowHours, instances, conversions: converted, conversionRate: rate(converted, instances) },
      split: this.split(conversions),
      rows,
    };
  }

  /** Each variant against the holdout (or, without one, against the first variant), with a two-proportion z-test. */
  private split(groups: { variant: string | null; instances: number; conversions: number }[]): unknown {
    const variants = groups.filter((g) => g.variant !== null).map((g) => ({ variant: g.variant!, instances: g.instances, conversions: g.conversions, conversionRate: rate(g.conversions, g.instances) }));
    if (!variants.length) return null;
    const control = variants.find((v) => v.variant === 'holdout') ?? variants[0]!;
    const comparisons = variants
      .filter((v) => v !== control)
      .map((v) => ({ variant: v.variant, against: control.variant, difference: rate(v.conversions, v.instances)! - rate(control.conversions, control.instances)!, ...twoProportionZTest(v.conversions, v.instances, control.conversions, control.instances) }));
    return { control: control.variant, variants, comparisons };
  }

  async events(workspaceId: string, q: EventsReportQuery): Promise<Report> {
    const r = await this.range(workspaceId, q);
    const values = q.name ? [q.name] : undefined;
    const daily = r.bucket === 'day' || r.bucket === 'week' || r.bucket === 'month';
    const [buckets, counts, totals] = await Promise.all([
      this.reports.buckets(r),
      this.reports.series(workspaceId, r, { metrics: ['event'], dim: 'name', values }),
      this.reports.series(workspaceId, r, { metrics: ['event'], dim: '' }),
    ]);
    const names = [...new Set(counts.map((x) => x.value))].sort();
    const scopes = [`event${SEP}${SEP}`, ...names.map((n) => `event${SEP}name${SEP}${n}`)];
    const [uniques, topProperties] = daily ? await Promise.all([this.reports.distinctActors(workspaceId, r, scopes), this.reports.topProperties(workspaceId, r, q.name, 10)]) : [[], []];
    const uniq = new Map(uniques.map((u) => [`${u.bucket}|${u.scope}`, u.n]));
    const count = new Map(counts.map((c) => [`${c.bucket}|${c.value}`, c.count]));
    const rows = buckets.flatMap((bucket) =>
      names.map((name) => ({ bucket, name, count: count.get(`${bucket}|${name}`) ?? 0, uniqueContacts: daily ? (uniq.get(`${bucket}|event${SEP}name${SEP}${name}`) ?? 0) : null })),
    );
    const all = buckets.map((bucket) => ({
      bucket,
      count: totals.filter((t) => t.bucket === bucket).reduce((a, t) => a + t.count, 0),
      uniqueContacts: daily ? (uniq.get(`${bucket}|event${SEP}${SEP}`) ?? 0) : null,
    }));
    return { ...this.head('events', r), name: q.name ?? null, allEvents: all, topProperties, rows };
  }

  async segment(workspaceId: string, segmentId: string, q: SegmentReportQuery): Promise<Report> {
    const r = await this.range(workspaceId, q, false);
    const [buckets, series, baseline] = await Promise.all([
      this.reports.buckets(r),
      this.reports.series(workspaceId, r, { metrics: ['segment.entered', 'segment.exited'], dim: 'segment', values: [segmentId] }),
      this.reports.segmentBaseline(workspaceId, r, segmentId),
    ]);
    let size = baseline;
    const rows = buckets.map((bucket) => {
      const entries = series.find((x) => x.bucket === bucket && x.metric === 'segment.entered')?.count ?? 0;
      const exits = series.find((x) => x.bucket === bucket && x.metric === 'segment.exited')?.count ?? 0;
      size += entries - exits;
      return { bucket, entries, exits, size };
    });
    return { ...this.head('segment', r), segmentId, sizeBefore: baseline, rows };
  }
}
