import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTACT_CREATED_V1, CONTACT_ERASED_V1, CONTACT_UPDATED_V1, INBOUND_MESSAGE_RECEIVED_V1 } from '@tessera/contracts';
import { startHarness, waitFor, type Harness } from './harness';

describe('messaging: inbound messages and role-based routing', () => {
  let h: Harness;
  const vip = randomUUID();

  const inbound = (from: string, extra: { text?: string; buttonPayload?: string; receivedAt?: string } = {}): Promise<string> =>
    h.publish('ingestion', INBOUND_MESSAGE_RECEIVED_V1.subject, { channel: 'whatsapp', provider: 'whatsapp_cloud', providerMessageId: `wamid.${randomUUID()}`, from, to: '106540352242922', receivedAt: new Date().toISOString(), sourceId: randomUUID(), raw: {}, ...extra });
  const conversationOf = (from: string): Promise<any> => waitFor(async () => (await h.call('GET', '/v1/conversations')).body.find((c: { address: string }) => c.address === from), `conversation of ${from}`);

  beforeAll(async () => {
    h = await startHarness('msgin');
    await h.publish('crm', CONTACT_CREATED_V1.subject, { contactId: vip, phone: '+4915199990001', attributes: { tier: 'vip' }, createdAt: new Date().toISOString() });
    await waitFor(async () => (await h.pool.query('SELECT 1 FROM contact WHERE id = $1', [vip])).rowCount, 'vip contact in the projection');
    const rules = [
      { name: 'sales button', kind: 'button', condition: { payload: 'talk_to_sales' }, queue: 'sales', priority: 10 },
      { name: 'billing words', kind: 'keyword', condition: { keywords: ['refund', 'invoice'] }, queue: 'billing', priority: 20 },
      { name: 'vip', kind: 'attribute', condition: { attribute: 'tier', equals: 'vip' }, queue: 'account-managers', priority: 30 },
      // An empty window: never matches, so unmatched messages fall through to the default queue.
      { name: 'closed', kind: 'business_hours', condition: { timezone: 'Europe/Berlin', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '00:00' }, queue: 'night', priority: 40 },
    ];
    for (const rule of rules) expect((await h.call('POST', '/v1/routing-rules', rule)).status).toBe(201);
  }, 90_000);

  afterAll(async () => {
    await h?.close();
  });

  it('refuses a rule whose condition does not fit its kind', async () => {
    const bad = await h.call('POST', '/v1/routing-rules', { name: 'x', kind: 'business_hours', condition: { timezone: 'Europe/Berlin', start: '9am', end: '17:00' }, queue: 'q' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['condition.start']);
  });

  it('routes an inbound WhatsApp message by keyword, by contact attribute and by pressed button; the rest to the default queue', async () => {
    await inbound('+4915111110001', { text: 'I want a REFUND now' });
    await inbound('+4915199990001', { text: 'hello' }); // the vip contact
    await inbound('+4915111110003', { text: 'Sales please', buttonPayload: 'talk_to_sales' });
    await inbound('+4915111110004', { text: 'hello' });
    expect((await conversationOf('+4915111110001')).queue).toBe('billing');
    const vipConversation = await conversationOf('+4915199990001');
    expect(vipConversation).toMatchObject({ queue: 'account-managers', contactId: vip, status: 'open' });
    expect((await conversationOf('+4915111110003')).queue).toBe('sales');
    expect((await conversationOf('+4915111110004')).queue).toBe('default');

    const routed = await waitFor(() => {
      const events = h.seen('messaging.conversation.routed.v1');
      return events.length >= 4 ? events : undefined;
    }, 'four routed events');
    expect(routed.map((e) => [e.data.queue, e.data.ruleKind ?? null]).sort()).toEqual([['account-managers', 'attribute'], ['billing', 'keyword'], ['default', null], ['sales', 'button']]);
  });

  it('keeps later messages in the open conversation, records STOP without touching consent, and lets agents assign and close', async () => {
    const vipConversation = await conversationOf('+4915199990001');
    const stopId = await inbound('+4915199990001', { text: 'STOP' });
    const detail = await waitFor(async () => {
      const d = (await h.call('GET', `/v1/conversations/${vipConversation.id}`)).body;
      return d.messages.length >= 2 ? d : undefined;
    }, 'messages in the conversation');
    expect(detail.messages.find((m: { id: string }) => m.id === stopId)).toMatchObject({ text: 'STOP', optOutKeyword: true });
    const consent = (await h.pool.query('SELECT consent FROM contact WHERE id = $1', [vip])).rows[0].consent;
    expect(consent).toEqual({}); // the CRM owns consent; it reacts to the same inbound event
    expect((await h.call('GET', '/v1/conversations')).body.filter((c: { address: string }) => c.address === '+4915199990001')).toHaveLength(1);

    const assigned = await h.call('PATCH', `/v1/conversations/${vipConversation.id}`, { assignee: 'agent-7', status: 'closed' });
    expect(assigned.body).toMatchObject({ assignee: 'agent-7', status: 'closed' });
    expect((await h.call('GET', '/v1/conversations?queue=account-managers&status=open')).body).toHaveLength(0);
    expect((await h.call('PATCH', `/v1/conversations/${randomUUID()}`, { status: 'closed' })).status).toBe(404);
  });

  it('hands a conversation from an unknown number to the contact that later has that number, with its service window', async () => {
    const receivedAt = new Date(Date.now() - 60_000).toISOString();
    await inbound('+4915122220001', { text: 'hi, new here', receivedAt });
    await inbound('+4915122220002', { text: 'me too', receivedAt });
    expect(await conversationOf('+4915122220001')).toMatchObject({ contactId: null });
    expect(await conversationOf('+4915122220002')).toMatchObject({ contactId: null });

    // One contact is created with the number, another gains it by an update.
    const [created, updated] = [randomUUID(), randomUUID()];
    await h.publish('crm', CONTACT_CREATED_V1.subject, { contactId: created, phone: '+4915122220001', attributes: {}, createdAt: new Date().toISOString() });
    await h.publish('crm', CONTACT_CREATED_V1.subject, { contactId: updated, attributes: {}, createdAt: new Date().toISOString() });
    await h.publish('crm', CONTACT_UPDATED_V1.subject, { contactId: updated, fields: { phone: '+4915122220002' }, attributes: {}, unset: [], updatedAt: new Date().toISOString() });
    const linked = async (from: string, contactId: string): Promise<unknown> => {
      const c = (await h.call('GET', '/v1/conversations')).body.find((x: { address: string }) => x.address === from);
      return c?.contactId === contactId ? c : undefined;
    };
    await waitFor(() => linked('+4915122220001', created), 'the conversation claimed by the created contact');
    await waitFor(() => linked('+4915122220002', updated), 'the conversation claimed by the updated contact');
    const windows = (await h.pool.query('SELECT id, last_inbound_at FROM contact WHERE id = ANY($1::uuid[])', [[created, updated]])).rows;
    expect(windows.map((r) => r.last_inbound_at?.toISOString()).sort()).toEqual([receivedAt, receivedAt]);
  });

  it('forgets an erased contact: profile, conversations and inbound texts', async () => {
    const conversation = await conversationOf('+4915199990001');
    await h.publish('crm', CONTACT_ERASED_V1.subject, { contactId: vip, erasedAt: new Date().toISOString() });
    await waitFor(async () => (await h.call('GET', `/v1/conversations/${conversation.id}`)).status === 404, 'the conversation erased');
    expect((await h.pool.query('SELECT 1 FROM contact WHERE id = $1', [vip])).rowCount).toBe(0);
    expect((await h.pool.query('SELECT 1 FROM inbound_message WHERE "from" = $1', ['+4915199990001'])).rowCount).toBe(0);

    // Events about the contact that arrive after its erasure (a lagging consumer, a redelivery) bring nothing back.
    // Each subject is consumed in stream order: once a marker published after them is in, they were handled.
    const marker = randomUUID();
    const now = new Date().toISOString();
    await h.publish('crm', CONTACT_CREATED_V1.subject, { contactId: vip, phone: '+4915199990001', email: 'vip@example.test', attributes: { tier: 'vip' }, createdAt: now });
    await h.publish('crm', CONTACT_UPDATED_V1.subject, { contactId: vip, fields: { email: 'vip2@example.test' }, attributes: { tier: 'gold' }, unset: [], updatedAt: now });
    await h.publish('crm', CONTACT_CREATED_V1.subject, { contactId: marker, attributes: {}, createdAt: now });
    await h.publish('crm', CONTACT_UPDATED_V1.subject, { contactId: marker, fields: { locale: 'de-DE' }, attributes: {}, unset: [], updatedAt: now });
    await waitFor(async () => (await h.pool.query('SELECT 1 FROM contact WHERE id = $1 AND locale IS NOT NULL', [marker])).rowCount, 'the marker contact');
    expect((await h.pool.query('SELECT 1 FROM contact WHERE id = $1', [vip])).rowCount).toBe(0);
  });
});
