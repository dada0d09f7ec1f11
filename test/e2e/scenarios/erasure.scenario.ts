// Scenario 6: a contact who left traces in every service (tracked events, a segment, a journey, an
// email, an SMS conversation) is erased through the CRM. Every service's public API stops showing
// her personal data; as a final proof, no table of any service's schema holds her email, phone or
// name any more.
import { expect, it } from 'vitest';
import type { Platform } from '../support/platform';
import { SERVICES } from '../support/platform';
import { sendTwilio } from '../support/webhooks';
import { createSegment, journeyInstances, messagingKnows, profile, publishJourney, publishTemplate, withSegment } from './steps';

const EMAIL = 'hanna.erasure@example.com';
const PHONE = '+4915144440001';
const NAME = 'Hannelore';
const USER_ID = 'cust-erase-4001';

/** Every table of every service's schema whose rows mention one of `needles`, with the count. */
async function tablesMentioning(p: Platform, needles: string[]): Promise<string[]> {
  const tables = await p.sql<{ schema: string; name: string }>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE' ORDER BY 1, 2`,
    [SERVICES],
  );
  const hits: string[] = [];
  for (const t of tables) {
    const [row] = await p.sql<{ n: string }>(`SELECT count(*) AS n FROM "${t.schema}"."${t.name}" AS r WHERE r::text ILIKE ANY($1)`, [needles.map((n) => `%${n}%`)]);
    if (row && row.n !== '0') hits.push(`${t.schema}.${t.name} (${row.n})`);
  }
  return hits;
}

export function erasureScenario(platform: () => Platform): void {
  let archiveAfterErasure: { hits: string[]; api: unknown } | undefined;
  it('erasure: deleting a contact removes its personal data from every service', async () => {
    const p = platform();
    const template = await publishTemplate(p, {
      name: 'er-receipt',
      channel: 'email',
      content: { locales: { default: { subject: 'Your receipt, {{contact.attributes.firstName}}', html: '<p>Thanks {{contact.attributes.firstName}} ({{contact.email}})</p>', text: 'Thanks' } } },
    });
    const segment = await createSegment(p, 'newsletter readers', { type: 'event', event: 'Newsletter Read', count: { operator: 'at_least', value: 1 } });
    const journeyId = await publishJourney(p, 'reader follow-up', {
      trigger: { type: 'event', event: 'Newsletter Read' },
      entry: { mode: 'once' },
      start: 'wait',
      nodes: { wait: { type: 'wait', duration: '3d' } },
    });

    // Hanna's traces: a profile with consent, tracked events, a segment, a journey, an email, an SMS.
    await withSegment(p, (a) => a.identify({ userId: USER_ID, traits: { email: EMAIL, phone: PHONE, firstName: NAME } }));
    const hanna = await profile(p, { externalId: USER_ID });
    expect(hanna).toMatchObject({ email: EMAIL, phone: PHONE, attributes: { firstName: NAME } });
    expect((await p.api('crm', 'PUT', `/v1/contacts/${hanna.id}/consent/email`, { state: 'subscribed' })).status).toBe(200);
    await withSegment(p, (a) => a.track({ userId: USER_ID, event: 'Newsletter Read', properties: { issue: 42, readerName: NAME } }));
    await p.eventually(async () => (await p.api('segmentation', 'GET', `/v1/segments/${segment}/members`)).body?.items?.some((m: { contactId: string }) => m.contactId === hanna.id), 'Hanna in the segment');
    await p.eventually(async () => (await journeyInstances(p, hanna.id)).some((i) => i.journeyId === journeyId), 'Hanna in the journey');
    await messagingKnows(p, template, hanna.id, NAME);
    const sent = await p.api('messaging', 'POST', '/v1/messages', { idempotencyKey: 'er-receipt-1', contactId: hanna.id, channel: 'email', templateId: template, data: {} });
    expect(sent.status).toBe(202);
    await p.eventually(() => p.smtp.received.find((m) => m.to === EMAIL), 'the receipt email');
    expect((await sendTwilio(p, { MessageSid: 'SM9e2e00000000000000000000000erase', From: PHONE, To: '+15005550006', Body: `Hi, this is ${NAME}`, NumMedia: '0', SmsStatus: 'received' })).status).toBe(200);
    await p.eventually(async () => (await p.api('messaging', 'GET', `/v1/conversations?contactId=${hanna.id}`)).body?.length, "Hanna's SMS conversation");
    await p.eventually(async () => (await p.api('analytics', 'GET', `/v1/facts?contactId=${hanna.id}`)).body?.length >= 3, 'facts about Hanna in analytics');
    // Before the erasure, the proof query does find her (so its silence afterwards means something).
    expect((await tablesMentioning(p, [EMAIL, PHONE.slice(1), NAME])).length).toBeGreaterThan(3);

    // The erasure request.
    const erased = await p.api('crm', 'DELETE', `/v1/contacts/${hanna.id}`);
    expect(erased.status, JSON.stringify(erased.body)).toBe(200);

    // Each service's public API, once the erasure event has reached it.
    expect((await p.api('crm', 'GET', `/v1/contacts/lookup?${new URLSearchParams({ email: EMAIL })}`)).status).toBe(404);
    const crmView = await p.api('crm', 'GET', `/v1/contacts/${hanna.id}`);
    expect(JSON.stringify(crmView.body)).not.toMatch(new RegExp(`${EMAIL}|${NAME}|${PHONE.slice(1)}`));
    expect((await p.api('crm', 'GET', `/v1/contacts/${hanna.id}/consent`)).body?.current ?? []).toEqual([]);
    await p.eventually(async () => (await p.api('segmentation', 'GET', `/v1/contacts/${hanna.id}/segments`)).body?.length === 0, 'segmentation to forget Hanna');
    await p.eventually(async () => (await journeyInstances(p, hanna.id)).every((i) => i.status !== 'active' && !JSON.stringify(i).includes(NAME)), 'journeys to end and scrub her instance');
    await p.eventually(async () => {
      const messages = await p.api('messaging', 'GET', `/v1/contacts/${hanna.id}/messages`);
      const conversations = await p.api('messaging', 'GET', `/v1/conversations?contactId=${hanna.id}`);
      const preview = await p.api('messaging', 'POST', `/v1/templates/${template}/preview`, { contactId: hanna.id });
      const text = JSON.stringify([messages.body, conversations.body, preview.body]);
      return !text.includes(EMAIL) && !text.includes(NAME) && !text.includes(PHONE.slice(1));
    }, 'messaging to forget her address, name and conversation');
    const facts = await p.api('analytics', 'GET', `/v1/facts?contactId=${hanna.id}`);
    expect(JSON.stringify(facts.body)).not.toMatch(new RegExp(`${EMAIL}|${NAME}|${PHONE.slice(1)}`));

    // The final proof: no service's schema holds her email, phone or name (ingestion's raw archive
    // is checked by the next test).
    const outsideArchive = (hits: string[]): string[] => hits.filter((h) => !h.startsWith('ingestion.event_archive'));
    const left = await p.eventually(async () => {
      const hits = await tablesMentioning(p, [EMAIL, PHONE.slice(1), NAME]);
      return outsideArchive(hits).length === 0 ? hits : undefined;
    }, 'every schema to be free of her personal data', 15_000).catch(async (e: Error) => {
      throw new Error(`${e.message}: still in ${(await tablesMentioning(p, [EMAIL, PHONE.slice(1), NAME])).join(', ')}`);
    });
    expect(outsideArchive(left)).toEqual([]);
    archiveAfterErasure = { hits: left, api: (await p.api('ingestion', 'GET', `/v1/archive?userId=${USER_ID}`)).body };
  });

  // Ingestion's raw archive (kept for replay) knows people only by their SDK ids: it erases her
  // events from crm.contact.erased.v2, which carries sha256 of her external id, anonymous ids and
  // email. The first test ran the erasure; here every schema, the archive included, must be clean.
  it("erasure: ingestion's raw event archive forgets her too", async () => {
    const p = platform();
    expect(archiveAfterErasure).toBeDefined();
    const hits = await p.eventually(async () => {
      const found = await tablesMentioning(p, [EMAIL, PHONE.slice(1), NAME, USER_ID]);
      return found.length === 0 ? found : undefined;
    }, 'the raw archive to be free of her events', 15_000).catch(async (e: Error) => {
      throw new Error(`${e.message}: still in ${(await tablesMentioning(p, [EMAIL, PHONE.slice(1), NAME, USER_ID])).join(', ')}`);
    });
    expect(hits).toEqual([]);
    expect((await p.api('ingestion', 'GET', `/v1/archive?userId=${USER_ID}`)).body).toEqual([]);
  });
}
