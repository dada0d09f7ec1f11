import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EVENT_RECEIVED_V1,
  GOAL_REACHED_V1,
  INSTANCE_ENTERED_V1,
  INSTANCE_EXITED_V1,
  MEMBERSHIP_ENTERED_V1,
  MEMBERSHIP_EXITED_V1,
  MESSAGE_STATUS_CHANGED_V1,
  STEP_COMPLETED_V1,
  type EventEnvelope,
} from '@tessera/contracts';
import { startHarness, waitFor, type Harness } from './harness';

// Known sequences go through the real bus, shuffled and partly redelivered; every number is checked.
const D1 = '2026-11-10';
const D2 = '2026-11-11';
const at = (day: string, hm: string): string => `${day}T${hm}:00.000Z`;
const RANGE = `from=${D1}T00:00:00Z&to=2026-11-12T00:00:00Z`;

function shuffle<T>(xs: T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('analytics store and reports', () => {
  let h: Harness;
  const journeyId = randomUUID();
  const segmentId = randomUUID();
  const contacts = Array.from({ length: 6 }, () => randomUUID());
  let all: EventEnvelope[] = [];

  beforeAll(async () => {
    h = await startHarness('anrep');
    const msg = (messageId: string, status: string, channel: 'email' | 'sms', templateId: string, when: string, extra: object = {}): EventEnvelope =>
      h.envelope(MESSAGE_STATUS_CHANGED_V1.subject, { messageId, contactId: contacts[0]!, channel, templateId, status: status as never, occurredAt: when, ...extra }, { occurredAt: when });
    const [m1, m2, m3, m4] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const j = { journeyId, campaignId: 'spring' };
    const messaging = [
      msg(m1, 'sent', 'email', 'tplA', at(D1, '10:00'), j),
      msg(m1, 'delivered', 'email', 'tplA', at(D1, '10:01'), j),
      msg(m1, 'opened', 'email', 'tplA', at(D1, '11:00'), j),
      msg(m1, 'clicked', 'email', 'tplA', at(D2, '09:00'), j),
      msg(m1, 'unsubscribed', 'email', 'tplA', at(D2, '10:00'), j),
      msg(m2, 'sent', 'email', 'tplA', at(D1, '10:05')),
      msg(m2, 'bounced', 'email', 'tplA', at(D1, '10:06')),
      msg(m3, 'sent', 'sms', 'tplB', at(D2, '08:00')),
      msg(m3, 'delivered', 'sms', 'tplB', at(D2, '08:01')),
      msg(m4, 'sent', 'sms', 'tplB', at(D2, '08:30')),
      msg(m4, 'failed', 'sms', 'tplB', at(D2, '08:31')),
    ];
    const track = (user: string, type: 'track' | 'page', name: string, when: string, properties: Record<string, unknown> = {}): EventEnvelope =>
      h.envelope(EVENT_RECEIVED_V1.subject, { messageId: randomUUID(), userId: user, routingKey: user, timestamp: when, receivedAt: when, sourceId: randomUUID(), context: { ip: '10.0.0.1' }, type, name, properties }, { occurredAt: when });
    const events = [
      track('u1', 'track', 'Purchase', at(D1, '10:00'), { plan: 'pro', email: 'u1@example.com' }),
      track('u1', 'track', 'Purchase', at(D1, '12:00'), { plan: 'pro' }),
      track('u2', 'track', 'Purchase', at(D1, '13:00'), { plan: 'free' }),
      track('u3', 'track', 'Signup', at(D2, '09:00')),
      track('u1', 'page', 'Home', at(D2, '09:30')),
    ];
    const seg = (subject: typeof MEMBERSHIP_ENTERED_V1.subject | typeof MEMBERSHIP_EXITED_V1.subject, contactId: string, when: string): EventEnvelope =>
      h.envelope(subject, { segmentId, contactId, at: when, segmentVersion: 1 }, { occurredAt: when });
    const segments = [
      seg(MEMBERSHIP_ENTERED_V1.subject, contacts[3]!, at('2026-11-09', '12:00')),
      seg(MEMBERSHIP_ENTERED_V1.subject, contacts[0]!, at(D1, '01:00')),
      seg(MEMBERSHIP_ENTERED_V1.subject, contacts[1]!, at(D1, '02:00')),
      seg(MEMBERSHIP_ENTERED_V1.subject, contacts[2]!, at(D2, '03:00')),
      seg(MEMBERSHIP_EXITED_V1.subject, contacts[0]!, at(D2, '04:00')),
    ];
    const instances = contacts.map(() => randomUUID());
    const base = (i: number, when: string): { instanceId: string; journeyId: string; journeyVersion: number; contactId: string; at: string } => ({ instanceId: instances[i]!, journeyId, journeyVersion: 1, contactId: contacts[i]!, at: when });
    const jv = (subject: string, data: object, when: string): EventEnvelope => h.envelope(subject as never, data as never, { occurredAt: when });
    const journeys: EventEnvelope[] = [];
    contacts.forEach((_, i) => journeys.push(jv(INSTANCE_ENTERED_V1.subject, { ...base(i, at(D1, '10:00')), trigger: 'segment_entered' }, at(D1, '10:00'))));
    ['A', 'A', 'B', 'B'].forEach((v, i) => journeys.push(jv(STEP_COMPLETED_V1.subject, { ...base(i, at(D1, '10:00')), stepId: 'split', stepType: 'split', outcome: `variant:${v}` }, at(D1, '10:00'))));
    journeys.push(jv(INSTANCE_EXITED_V1.subject, { ...base(4, at(D1, '10:00')), kind: 'holdout' }, at(D1, '10:00')));
    journeys.push(jv(INSTANCE_EXITED_V1.subject, { ...base(5, at(D1, '10:00')), kind: 'holdout' }, at(D1, '10:00')));
    journeys.push(jv(GOAL_REACHED_V1.subject, { ...base(0, at(D1, '12:00')), goalId: 'purchase' }, at(D1, '12:00')));
    journeys.push(jv(GOAL_REACHED_V1.subject, { ...base(2, at(D2, '12:00')), goalId: 'purchase' }, at(D2, '12:00')));
    journeys.push(jv(GOAL_REACHED_V1.subject, { ...base(3, '2026-11-20T10:00:00.000Z'), goalId: 'purchase' }, '2026-11-20T10:00:00.000Z'));
    journeys.push(jv(GOAL_REACHED_V1.subject, { ...base(5, at(D1, '11:00')), goalId: 'purchase' }, at(D1, '11:00')));
    all = [...messaging, ...events, ...segments, ...journeys];
    // Out of order (goal before entry too), then every third event again under a new message id.
    await h.publish(shuffle(all).reverse());
    await h.redeliver(all.filter((_, i) => i % 3 === 0));
    await waitFor(async () => {
      const { rows } = await h.pool.query<{ n: string }>('SELECT count(*) AS n FROM fact');
      return Number(rows[0]!.n) >= all.length;
    }, 'all facts');
    await h.drained();
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('stores each event once in the partitioned fact table, without personal data', async () => {
    const { rows } = await h.pool.query<{ n: string; parts: string }>(`SELECT count(*) AS n, count(DISTINCT tableoid) AS parts FROM fact`);
    expect(Number(rows[0]!.n)).toBe(all.length);
    const { rows: kinds } = await h.pool.query<{ relkind: string }>(`SELECT relkind FROM pg_class WHERE oid = 'analytics.fact'::regclass`);
    expect(kinds[0]!.relkind).toBe('p');
    const { rows: track } = await h.pool.query<{ data: any; actor: string }>(`SELECT data, actor FROM fact WHERE subject = $1 ORDER BY occurred_at LIMIT 1`, [EVENT_RECEIVED_V1.subject]);
    expect(track[0]!.data).toEqual({ type: 'track', name: 'Purchase', propertyKeys: ['email', 'plan'], sourceId: expect.any(String) });
    expect(JSON.stringify(track[0])).not.toContain('u1');
    expect(JSON.stringify(track[0])).not.toContain('example.com');
  });

  it('reports messaging counts and rates per day, and per channel', async () => {
    const r = await h.call('GET', `/v1/reports/messaging?${RANGE}&bucket=day`);
    expect(r.status).toBe(200);
    expect(r.body.timezone).toBe('UTC');
    const pick = (row: any): object => ({ sent: row.sent, delivered: row.delivered, opened: row.opened, clicked: row.clicked, bounced: row.bounced, unsubscribed: row.unsubscribed, failed: row.failed });
    expect(r.body.rows.map((x: any) => x.bucket)).toEqual([`${D1}T00:00:00.000Z`, `${D2}T00:00:00.000Z`]);
    expect(pick(r.body.rows[0])).toEqual({ sent: 2, delivered: 1, opened: 1, clicked: 0, bounced: 1, unsubscribed: 0, failed: 0 });
    expect(pick(r.body.rows[1])).toEqual({ sent: 2, delivered: 1, opened: 0, clicked: 1, bounced: 0, unsubscribed: 1, failed: 1 });
    expect(r.body.totals[0]).toMatchObject({ sent: 4, delivered: 2, deliveryRate: 0.5, openRate: 0.5, clickRate: 0.5, bounceRate: 0.25, unsubscribeRate: 0.5, failureRate: 0.25 });
    const byChannel = await h.call('GET', `/v1/reports/messaging?${RANGE}&groupBy=channel`);
    expect(byChannel.body.totals.map((t: any) => [t.channel, t.sent, t.delivered, t.failed, t.bounced])).toEqual([
      ['email', 2, 1, 0, 1],
      ['sms', 2, 1, 1, 0],
    ]);
    const byJourney = await h.call('GET', `/v1/reports/messaging?${RANGE}&groupBy=campaign`);
    expect(byJourney.body.totals).toEqual([expect.objectContaining({ campaign: 'spring', sent: 1, delivered: 1, opened: 1, clicked: 1 })]);
    const hourly = await h.call('GET', `/v1/reports/messaging?from=${D1}T10:00:00Z&to=${D1}T12:00:00Z&bucket=hour`);
    expect(hourly.body.rows.map((x: any) => [x.sent, x.opened])).toEqual([[2, 0], [0, 1]]);
    const minute = await h.call('GET', `/v1/reports/messaging?from=${D1}T10:00:00Z&to=${D1}T10:10:00Z&bucket=minute`);
    expect(minute.body.rows).toHaveLength(10);
    expect(minute.body.rows.filter((x: any) => x.sent).map((x: any) => x.bucket)).toEqual([`${D1}T10:00:00.000Z`, `${D1}T10:05:00.000Z`]);
  });

  it('reports events by name with unique contacts and top properties', async () => {
    const r = await h.call('GET', `/v1/reports/events?${RANGE}`);
    expect(r.status).toBe(200);
    const cells = r.body.rows.filter((x: any) => x.count).map((x: any) => [x.bucket.slice(0, 10), x.name, x.count, x.uniqueContacts]);
    expect(cells).toEqual([
      [D1, 'Purchase', 3, 2],
      [D2, 'Signup', 1, 1],
      [D2, 'page:Home', 1, 1],
    ]);
    expect(r.body.allEvents.map((x: any) => [x.count, x.uniqueContacts])).toEqual([[3, 2], [2, 2]]);
    expect(r.body.topProperties).toEqual([
      { key: 'plan', value: 'pro', count: 2 },
      { key: 'plan', value: 'free', count: 1 },
    ]);
    const weekly = await h.call('GET', `/v1/reports/events?${RANGE}&bucket=week&name=Purchase`);
    expect(weekly.body.rows).toEqual([{ bucket: '2026-11-09T00:00:00.000Z', name: 'Purchase', count: 3, uniqueContacts: 2 }]);
  });

  it('reports segment entries, exits and size over time', async () => {
    const r = await h.call('GET', `/v1/reports/segments/${segmentId}?${RANGE}`);
    expect(r.status).toBe(200);
    expect(r.body.sizeBefore).toBe(1);
    expect(r.body.rows.map((x: any) => [x.entries, x.exits, x.size])).toEqual([[2, 0, 3], [1, 1, 3]]);
  });

  it('reports a journey: steps, goals, conversions within the attribution window, and the split against the holdout', async () => {
    const r = await h.call('GET', `/v1/reports/journeys/${journeyId}?${RANGE}`);
    expect(r.status).toBe(200);
    expect(r.body.totals).toEqual({ entered: 6, exited: 2, goals: 3, messagesRequested: 0 });
    expect(r.body.exits).toEqual({ holdout: 2 });
    expect(r.body.steps).toEqual([{ stepId: 'split', completed: 4, messagesRequested: 0, outcomes: { 'variant:A': 2, 'variant:B': 2 } }]);
    expect(r.body.conversion).toEqual({ attributionWindowHours: 168, instances: 6, conversions: 3, conversionRate: 0.5 });
    expect(r.body.split.control).toBe('holdout');
    expect(r.body.split.variants.map((v: any) => [v.variant, v.instances, v.conversions])).toEqual([['A', 2, 1], ['B', 2, 1], ['holdout', 2, 1]]);
    expect(r.body.split.comparisons[0]).toMatchObject({ variant: 'A', against: 'holdout', difference: 0, z: 0, pValue: 1, significant: false });
    const longer = await h.call('GET', `/v1/reports/journeys/${journeyId}?${RANGE}&attributionWindowHours=720`);
    expect(longer.body.conversion).toMatchObject({ conversions: 4, conversionRate: 0.6667 });
    expect(longer.body.split.variants.find((v: any) => v.variant === 'B')).toMatchObject({ conversions: 2, conversionRate: 1 });
  });

  it('serves any report as CSV', async () => {
    const viaQuery = await h.call('GET', `/v1/reports/messaging?${RANGE}&format=csv`);
    expect(viaQuery.status).toBe(200);
    expect(viaQuery.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = viaQuery.text.trim().split('\r\n');
    expect(lines[0]!.startsWith('bucket,queued,sent,delivered')).toBe(true);
    expect(lines).toHaveLength(3);
    const viaAccept = await h.call('GET', `/v1/reports/segments/${segmentId}?${RANGE}`, undefined, { accept: 'text/csv' });
    expect(viaAccept.text).toBe(`bucket,entries,exits,size\r\n${D1}T00:00:00.000Z,2,0,3\r\n${D2}T00:00:00.000Z,1,1,3\r\n`);
  });

  it('refuses bad ranges with the field at fault', async () => {
    const backwards = await h.call('GET', `/v1/reports/messaging?from=2026-11-12T00:00:00Z&to=2026-11-10T00:00:00Z`);
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors).toEqual([{ path: 'to', messages: ['to must be after from'] }]);
    const tooMany = await h.call('GET', `/v1/reports/messaging?from=2026-01-01T00:00:00Z&to=2026-11-10T00:00:00Z&bucket=minute`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0].path).toBe('bucket');
    const badBucket = await h.call('GET', `/v1/reports/events?${RANGE}&bucket=fortnight`);
    expect(badBucket.status).toBe(400);
    expect(badBucket.body.errors[0].path).toBe('bucket');
    expect((await h.call('GET', `/v1/reports/journeys/not-a-uuid?${RANGE}`)).status).toBe(400);
    const minuteByTemplate = await h.call('GET', `/v1/reports/messaging?${RANGE}&bucket=minute&groupBy=template`);
    expect(minuteByTemplate.body.errors[0]).toEqual({ path: 'bucket', messages: ['minute buckets are kept for workspace totals and event names only; use hour or larger'] });
    expect((await h.call('GET', `/v1/reports/messaging?from=yesterday&to=2026-11-10T00:00:00Z`)).status).toBe(400);
  });

  it('counts local days in the workspace time zone', async () => {
    const created = await fetch(`${h.crm.url}/v1/workspaces`, {
      method: 'POST',
      headers: { authorization: `Bearer tsk_test_admin_key_analytics_0123456789`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'NY', timezone: 'America/New_York' }),
    }).then((r) => r.json() as Promise<{ workspace: { id: string }; adminKey: { key: string } }>);
    const wsId = created.workspace.id;
    await waitFor(async () => (await h.pool.query('SELECT 1 FROM workspace_setting WHERE workspace_id = $1', [wsId])).rowCount, 'workspace time zone');
    const send = (when: string): EventEnvelope =>
      h.envelope(MESSAGE_STATUS_CHANGED_V1.subject, { messageId: randomUUID(), contactId: randomUUID(), channel: 'email', templateId: 't', status: 'sent', occurredAt: when }, { workspaceId: wsId, occurredAt: when });
    await h.publish([send('2026-11-10T03:00:00Z'), send('2026-11-10T06:00:00Z'), send('2026-11-10T07:00:00Z')]);
    const r = await waitFor(async () => {
      const res = await h.call('GET', `/v1/reports/messaging?from=2026-11-09T05:00:00Z&to=2026-11-11T05:00:00Z`, undefined, { key: created.adminKey.key });
      return res.body?.totals?.[0]?.sent === 3 && res;
    }, 'NY report');
    expect(r.body.timezone).toBe('America/New_York');
    expect(r.body.rows.map((x: any) => [x.bucket, x.sent])).toEqual([['2026-11-09T05:00:00.000Z', 1], ['2026-11-10T05:00:00.000Z', 2]]);
    // The default workspace's key never sees another workspace's numbers.
    const mine = await h.call('GET', `/v1/reports/messaging?from=2026-11-09T05:00:00Z&to=2026-11-11T05:00:00Z`);
    expect(mine.body.totals[0].sent).toBe(4);
  });
});
