import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v4 as uuidv4 } from 'uuid';
import { startTestService } from '@tessera/testing';
import { journeysModule } from '../src/app.module';
import { JourneysConfig } from '../src/config/journeys.config';
import { InstanceChangedError, JourneyRunner } from '../src/runtime/journey-runner.service';
import { ADMIN_KEY, contractViolations, publishJourney, startJourneys, waitFor, type Harness } from './helpers';

const MSG = 'journeys.message.requested.v1';

describe('journeys durability: versions in flight, crash and restart, replicas, campaigns, date triggers', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startJourneys('jrndur');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('keeps contacts in flight on their version and migrates them with a step map', async () => {
    const v1 = { trigger: { type: 'api' }, start: 'a', nodes: { a: { type: 'send', channel: 'email', templateId: 'v1-a', next: 'w' }, w: { type: 'wait', duration: '1h', next: 'b' }, b: { type: 'send', channel: 'email', templateId: 'v1-b' } } };
    const id = await publishJourney(h, 'versions', v1);
    const [old1, old2, fresh] = [await h.contact(), await h.contact(), await h.contact()];
    for (const c of [old1, old2]) await h.call('POST', `/v1/journeys/${id}/trigger`, { contactId: c });
    await waitFor(() => h.of(MSG, (d) => d.contactId === old2)[0]);
    await h.call('PUT', `/v1/journeys/${id}`, { definition: { trigger: { type: 'api' }, start: 'a2', nodes: { a2: { type: 'send', channel: 'email', templateId: 'v2-a', next: 'w2' }, w2: { type: 'wait', duration: '1s', next: 'b2' }, b2: { type: 'send', channel: 'email', templateId: 'v2-b' } } } });
    expect((await h.call('POST', `/v1/journeys/${id}/publish`)).status).toBe(201);
    await h.call('POST', `/v1/journeys/${id}/trigger`, { contactId: fresh });
    await waitFor(() => h.of(MSG, (d) => d.contactId === fresh)[0]);
    const versions = await h.query(`SELECT contact_id, version, current_node FROM journeys.instance WHERE journey_id = $1`, [id]);
    expect(Object.fromEntries(versions.rows.map((r) => [r.contact_id, `${r.version}:${r.current_node}`]))).toEqual({ [old1]: '1:w', [old2]: '1:w', [fresh]: '2:w2' });
    const bad = await h.call('POST', `/v1/journeys/${id}/versions/2/migrate`, { fromVersion: 1, stepMap: { w: 'nope' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('stepMap.w');
    const moved = await h.call('POST', `/v1/journeys/${id}/versions/2/migrate`, { fromVersion: 1, stepMap: { w: 'w2' } });
    expect(moved.body).toEqual({ migrated: 2 });
    await waitFor(() => h.of(MSG, (d) => d.contactId === old1 && d.templateId === 'v2-b')[0], 8000, 'migrated send');
    expect(h.of(MSG, (d) => d.contactId === old1).map((e) => `${e.data.journeyVersion}:${e.data.templateId}`)).toEqual(['1:v1-a', '2:v2-b']);
    const history = await h.call('GET', `/v1/journeys/instances/${h.of(MSG, (d) => d.contactId === old1)[0]!.data.instanceId}`);
    expect(history.body.history.map((s: { outcome: string }) => s.outcome)).toEqual(['sent', 'migrated', 'waited', 'sent']);
  });

  it('loses no instance and requests no message twice across a stop and restart with a timer pending', async () => {
    const id = await publishJourney(h, 'crash', { trigger: { type: 'event', event: 'Signed Up' }, start: 'a', nodes: { a: { type: 'send', channel: 'email', templateId: 'first', next: 'w' }, w: { type: 'wait', duration: '5s', next: 'b' }, b: { type: 'send', channel: 'email', templateId: 'second' } } });
    const contacts = await Promise.all(Array.from({ length: 20 }, () => h.contact()));
    for (const c of contacts) await h.track(c, 'Signed Up');
    await waitFor(() => h.of(MSG, (d) => d.journeyId === id).length === 20, 20000, 'first sends');
    await h.stop(); // the app goes away with 20 timers pending
    const pending = await h.query(`SELECT count(*)::int AS n, max(due_at) AS last FROM journeys.timer WHERE journey_id = $1`, [id]);
    const doneBefore = (await h.query(`SELECT count(*)::int AS n FROM journeys.instance WHERE journey_id = $1 AND status = 'completed'`, [id])).rows[0].n;
    expect(pending.rows[0].n).toBeGreaterThan(0); // a slow machine may have fired a few before the stop
    expect(pending.rows[0].n + doneBefore).toBe(20);
    await waitFor(async () => (await h.query(`SELECT now() > $1::timestamptz AS due`, [pending.rows[0].last])).rows[0].due, 5000, 'timers due while down');
    await h.restart();
    await waitFor(() => h.of(MSG, (d) => d.journeyId === id).length === 40, 20000, 'second sends after restart');
    await h.fireTimers();
    const byRequest = new Map<string, number>();
    for (const e of h.of(MSG, (d) => d.journeyId === id)) byRequest.set(e.data.requestId, (byRequest.get(e.data.requestId) ?? 0) + 1);
    expect(byRequest.size).toBe(40);
    expect([...byRequest.values()].every((n) => n === 1)).toBe(true);
    const states = await h.query(`SELECT status, count(*)::int AS n FROM journeys.instance WHERE journey_id = $1 GROUP BY status`, [id]);
    expect(states.rows).toEqual([{ status: 'completed', n: 20 }]);
  });

  it('shares timers between two replicas without firing any twice', async () => {
    const replica = await startTestService({ service: 'journeys', configClass: JourneysConfig, appModule: journeysModule, databaseUrl: h.db.url, namespace: h.namespace, env: { TESSERA_ADMIN_KEY: ADMIN_KEY } });
    try {
      const id = await publishJourney(h, 'replicas', { trigger: { type: 'api' }, start: 'w', nodes: { w: { type: 'wait', duration: '1s', next: 's' }, s: { type: 'send', channel: 'sms', templateId: 'tick' } } });
      const contacts = Array.from({ length: 50 }, () => uuidv4());
      for (let i = 0; i < contacts.length; i += 25) await Promise.all(contacts.slice(i, i + 25).map((c) => h.call('POST', `/v1/journeys/${id}/trigger`, { contactId: c })));
      await waitFor(() => h.of(MSG, (d) => d.journeyId === id).length >= 50, 15000, 'all wake-ups');
      await h.fireTimers();
      expect(new Set(h.of(MSG, (d) => d.journeyId === id).map((e) => e.data.requestId)).size).toBe(50);
      expect(h.of(MSG, (d) => d.journeyId === id)).toHaveLength(50);
    } finally {
      await replica.close();
    }
  });

  it('applies no step over a change that committed after the step read its instance', async () => {
    const id = await publishJourney(h, 'optimistic', { trigger: { type: 'api' }, start: 'w', nodes: { w: { type: 'wait', duration: '1h', next: 's' }, s: { type: 'send', channel: 'sms', templateId: 'x' } } });
    const contactId = uuidv4();
    await h.call('POST', `/v1/journeys/${id}/trigger`, { contactId });
    const instanceId = (await waitFor(async () => (await h.query(`SELECT id FROM journeys.instance WHERE journey_id = $1`, [id])).rows[0]?.id as string | undefined)) as string;
    const other = new pg.Client({ connectionString: h.db.url });
    await other.connect();
    try {
      // Another writer changes the instance and holds it until the step below has read it.
      await other.query('BEGIN');
      await other.query(`UPDATE journeys.instance SET seq = seq + 1 WHERE id = $1`, [instanceId]);
      const runner = h.journeys.app.get(JourneyRunner);
      const stop = runner.deliver([{ instanceId, input: { type: 'stop', kind: 'erased', reason: 'test' } }]);
      // Expected before the commit: on a busy machine the step can fail before COMMIT's reply is read.
      const refused = expect(stop).rejects.toBeInstanceOf(InstanceChangedError);
      await waitFor(async () => (await h.query(`SELECT 1 FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'`)).rowCount, 5000, 'the step waiting on the row');
      await other.query('COMMIT');
      await refused;
      expect((await h.query(`SELECT status FROM journeys.instance WHERE id = $1`, [instanceId])).rows[0].status).toBe('active');
      // Delivered again (as the bus or the timer would), it applies to the current row.
      await runner.deliver([{ instanceId, input: { type: 'stop', kind: 'erased', reason: 'test' } }]);
      expect((await h.query(`SELECT status FROM journeys.instance WHERE id = $1`, [instanceId])).rows[0].status).toBe('exited');
    } finally {
      await other.end();
    }
  });

  it('broadcasts to a segment on schedule, throttled, after a test send', async () => {
    const segment = uuidv4();
    const members = [await h.contact({}, 'Europe/Berlin'), await h.contact({}, 'America/Chicago'), await h.contact()];
    for (const c of members) await h.publish('segmentation.membership.entered.v1', { segmentId: segment, contactId: c, at: new Date().toISOString(), segmentVersion: 1 });
    await waitFor(async () => (await h.query(`SELECT count(*)::int AS n FROM journeys.segment_member WHERE segment_id = $1`, [segment])).rows[0].n === 3);
    const created = await h.call('POST', '/v1/campaigns', { name: 'promo', segmentId: segment, action: { type: 'send', channel: 'email', templateId: 'promo' }, scheduledAt: new Date(Date.now() + 500).toISOString(), ratePerSecond: 10 });
    expect(created.status).toBe(201);
    const campaignId = created.body.id;
    expect((await h.call('POST', `/v1/campaigns/${campaignId}/test-send`, { contactIds: [members[0]] })).status).toBe(202);
    const test = await waitFor(() => h.of(MSG, (d) => d.campaignId === campaignId)[0]);
    expect(test.data.data.campaign.test).toBe(true);
    await waitFor(() => h.of(MSG, (d) => d.campaignId === campaignId).length === 4, 8000, 'broadcast');
    const live = h.of(MSG, (d) => d.campaignId === campaignId && !d.data.campaign.test);
    expect(new Set(live.map((e) => e.data.contactId))).toEqual(new Set(members));
    const done = await waitFor(async () => ((await h.call('GET', `/v1/campaigns/${campaignId}`)).body.status === 'done' ? (await h.call('GET', `/v1/campaigns/${campaignId}`)).body : undefined));
    expect(done).toMatchObject({ audience: 3, requested: 3 });
    const bad = await h.call('POST', '/v1/campaigns', { name: 'x', segmentId: segment, action: { type: 'journey' }, scheduledAt: new Date().toISOString() });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('action.journeyId');
  });

  it('schedules a date-attribute entry at the local time and enters when it fires', async () => {
    const renewal = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    const id = await publishJourney(h, 'renewal', { trigger: { type: 'date_attribute', attribute: 'renewal_date', offsetDays: -3, time: '10:00' }, start: 's', nodes: { s: { type: 'send', channel: 'email', templateId: 'renewal-soon' } } });
    const c = await h.contact({ renewal_date: renewal }, 'America/New_York');
    const timer = await waitFor(async () => (await h.query(`SELECT due_at FROM journeys.timer WHERE journey_id = $1 AND contact_id = $2`, [id, c])).rows[0]);
    const expected = new Date(`${new Date(Date.parse(renewal) - 3 * 86_400_000).toISOString().slice(0, 10)}T10:00:00-05:00`);
    expect(Math.abs(timer.due_at.getTime() - expected.getTime())).toBeLessThanOrEqual(3_600_000); // -04:00 or -05:00 by season
    await h.query(`UPDATE journeys.timer SET due_at = now() WHERE journey_id = $1`, [id]);
    const sent = await waitFor(() => h.of(MSG, (d) => d.journeyId === id)[0]);
    expect(sent.data.contactId).toBe(c);
  });

  it('publishes only envelopes that satisfy their contracts', () => {
    expect(h.seen.length).toBeGreaterThan(0);
    expect(contractViolations(h.seen)).toEqual([]);
  });
});
