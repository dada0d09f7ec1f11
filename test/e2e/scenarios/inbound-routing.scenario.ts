// Scenario 5: a customer writes on WhatsApp about an invoice; the conversation is assigned to the
// billing team by a keyword rule. A message without the keyword goes to the default queue.
import { expect, it } from 'vitest';
import type { Platform } from '../support/platform';
import { sendWhatsApp } from '../support/webhooks';
import { messagingKnows, publishTemplate } from './steps';

export function inboundRoutingScenario(platform: () => Platform): void {
  it('inbound routing: a WhatsApp message with a billing keyword is assigned to the billing team', async () => {
    const p = platform();
    const rule = await p.api('messaging', 'POST', '/v1/routing-rules', { name: 'billing questions', kind: 'keyword', condition: { keywords: ['invoice', 'refund', 'billing'] }, queue: 'billing', priority: 10 });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const fritz = await p.api('crm', 'POST', '/v1/contacts', { email: 'fritz@example.com', phone: '+4915122220001', attributes: { firstName: 'Fritz' } });
    expect(fritz.status).toBe(201);
    // Messaging matches the sender by phone in its own projection of the CRM: a customer known there.
    const probe = await publishTemplate(p, { name: 'routing-probe', channel: 'sms', content: { locales: { default: { body: 'Hi {{contact.phone}}' } } } });
    await messagingKnows(p, probe, fritz.body.id, '+4915122220001');

    const inbound = (from: string, id: string, text: string): Record<string, unknown> => ({
      contacts: [{ profile: { name: 'Customer' }, wa_id: from }],
      messages: [{ from, id, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
    });
    // A known customer (by phone) asks about an invoice; a stranger just says hello.
    expect((await sendWhatsApp(p, inbound('4915122220001', 'wamid.HBgNNDkxNTEyMjIyMDAwMRUCABIYFjNFQjBDMEY', 'Hello! My last Invoice charged me twice?'))).status).toBe(200);
    expect((await sendWhatsApp(p, inbound('4915122220002', 'wamid.HBgNNDkxNTEyMjIyMDAwMhUCABIYFjNFQjBDMEY', 'Hi there, do you ship to Austria?'))).status).toBe(200);

    const billing = await p.eventually(async () => {
      const res = await p.api('messaging', 'GET', '/v1/conversations?queue=billing');
      return res.body?.length ? res.body : undefined;
    }, 'a conversation in the billing queue');
    expect(billing).toHaveLength(1);
    expect(billing[0]).toMatchObject({ channel: 'whatsapp', queue: 'billing', status: 'open', contactId: fritz.body.id, ruleId: rule.body.id });
    const conversation = await p.api('messaging', 'GET', `/v1/conversations/${billing[0].id}`);
    expect(conversation.body.messages.map((m: { text: string }) => m.text)).toEqual(['Hello! My last Invoice charged me twice?']);

    const other = await p.eventually(async () => {
      const res = await p.api('messaging', 'GET', '/v1/conversations?queue=default');
      return res.body?.find((c: { address: string }) => c.address === '+4915122220002');
    }, "the stranger's conversation in the default queue");
    expect(other).toMatchObject({ queue: 'default', contactId: null });

    // A billing agent takes it.
    const assigned = await p.api('messaging', 'PATCH', `/v1/conversations/${billing[0].id}`, { assignee: 'agent.bea' });
    expect(assigned.status).toBe(200);
    expect(assigned.body).toMatchObject({ assignee: 'agent.bea', queue: 'billing' });

    // Analytics counts the routing by queue (facts carry no message text).
    const facts = await p.eventually(async () => {
      const res = await p.api('analytics', 'GET', '/v1/facts?subject=messaging.conversation.routed.v1');
      const whatsapp = res.body?.filter((f: { data: { channel: string } }) => f.data.channel === 'whatsapp');
      return whatsapp?.length >= 2 ? whatsapp : undefined;
    }, 'the routing facts in analytics');
    expect(facts.map((f: { data: { queue: string } }) => f.data.queue).sort()).toEqual(['billing', 'default']);
    expect(JSON.stringify(facts)).not.toContain('Invoice');
  });
}
