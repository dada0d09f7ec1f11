import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTACT_CREATED_V1, CONTACT_ERASED_V1, CONTACT_MERGED_V1, INSTANCE_ENTERED_V1, MESSAGE_STATUS_CHANGED_V1 } from '@tessera/contracts';
import { startHarness, waitFor, type Harness } from './harness';

const D1 = '2026-11-10T10:00:00.000Z';
const RANGE = 'from=2026-11-10T00:00:00Z&to=2026-11-11T00:00:00Z';

describe('erasure and merges', () => {
  let h: Harness;
  const a = randomUUID();
  const b = randomUUID();
  const journeyId = randomUUID();

  const uniqueEntered = async (): Promise<number> =>
    Number((await h.pool.query<{ n: string }>(`SELECT coalesce(sum(count), 0) AS n FROM rollup WHERE grain = 'd' AND metric = 'uniq:journey.entered' AND dim = 'journey' AND value = $1`, [journeyId])).rows[0]!.n);
  const sentTotal = async (): Promise<number> => (await h.call('GET', `/v1/reports/messaging?${RANGE}`)).body.totals[0].sent;

  beforeAll(async () => {
    h = await startHarness('anpriv');
    const msg = (contactId: string): ReturnType<Harness['envelope']> =>
      h.envelope(MESSAGE_STATUS_CHANGED_V1.subject, { messageId: randomUUID(), contactId, channel: 'email', templateId: 't', status: 'sent', occurredAt: D1 }, { occurredAt: D1 });
    const entered = (contactId: string): ReturnType<Harness['envelope']> =>
      h.envelope(INSTANCE_ENTERED_V1.subject, { instanceId: randomUUID(), journeyId, journeyVersion: 1, contactId, at: D1, trigger: 'api' }, { occurredAt: D1 });
    const created = (contactId: string): ReturnType<Harness['envelope']> =>
      h.envelope(CONTACT_CREATED_V1.subject, { contactId, email: 'ann@example.com', attributes: { plan: 'pro' }, createdAt: D1 }, { occurredAt: D1 });
    await h.publish([msg(a), msg(b), msg(b), entered(a), entered(b), created(a), created(b)]);
    await waitFor(async () => (await h.pool.query('SELECT 1 FROM fact')).rowCount === 7, 'facts');
    await h.drained();
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('keeps ids only: the contact-created fact lists attribute names, not values', async () => {
    const facts = await h.call('GET', `/v1/facts?contactId=${a}&subject=${CONTACT_CREATED_V1.subject}`);
    expect(facts.body).toEqual([expect.objectContaining({ subject: CONTACT_CREATED_V1.subject, contactId: a, data: { attributeNames: ['plan'] } })]);
    expect(JSON.stringify(facts.body)).not.toContain('example.com');
  });

  it('re-keys a merged contact without changing counts; distinct contacts per day drop by the overlap', async () => {
    expect(await uniqueEntered()).toBe(2);
    expect(await sentTotal()).toBe(3);
    const merge = h.envelope(CONTACT_MERGED_V1.subject, { contactId: a, mergedContactId: b, mergedAt: D1 });
    await h.publish([merge]);
    await waitFor(async () => (await h.pool.query('SELECT 1 FROM fact WHERE contact_id = $1', [b])).rowCount === 0, 'merge');
    await h.redeliver([merge]);
    await h.drained();
    expect((await h.call('GET', `/v1/facts?contactId=${a}`)).body).toHaveLength(7);
    expect(await uniqueEntered()).toBe(1);
    expect(await sentTotal()).toBe(3);
    expect((await h.pool.query('SELECT DISTINCT contact_id FROM journey_instance')).rows).toEqual([{ contact_id: a }]);
  });

  it("erases the contact's link from every fact and distinct-contact row, keeping anonymous counts", async () => {
    await h.publish([h.envelope(CONTACT_ERASED_V1.subject, { contactId: a, erasedAt: D1 })]);
    await waitFor(async () => (await h.call('GET', `/v1/facts?contactId=${a}`)).body.length === 0, 'erasure');
    expect((await h.pool.query('SELECT 1 FROM fact WHERE actor = $1', [a])).rowCount).toBe(0);
    expect((await h.pool.query('SELECT 1 FROM unique_actor WHERE actor = $1', [a])).rowCount).toBe(0);
    expect((await h.pool.query('SELECT 1 FROM journey_instance WHERE contact_id = $1', [a])).rowCount).toBe(0);
    expect(await sentTotal()).toBe(3);
    expect(await uniqueEntered()).toBe(1);
  });
});
