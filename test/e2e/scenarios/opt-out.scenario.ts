// Scenario 4: a customer texts STOP (a Twilio-signed inbound SMS) while her order-updates journey
// waits for the shipment. The CRM records the opt-out; when the order ships, the journey skips the
// SMS step, records why, and still sends the email.
import { expect, it } from 'vitest';
import type { Platform } from '../support/platform';
import { sendTwilio } from '../support/webhooks';
import { journeyInstances, messagingKnows, publishJourney, publishTemplate, withSegment } from './steps';

export function optOutScenario(platform: () => Platform): void {
  it('opt-out: inbound SMS STOP -> consent updated -> the running journey skips the SMS step and records why', async () => {
    const p = platform();
    const sms = await publishTemplate(p, { name: 'oo-shipped-sms', channel: 'sms', content: { locales: { default: { body: 'Your order {{event.orderId}} is on its way.' } } } });
    const email = await publishTemplate(p, {
      name: 'oo-shipped-email',
      channel: 'email',
      content: { locales: { default: { subject: 'Order {{event.orderId}} shipped', html: '<p>Your order {{event.orderId}} is on its way, {{contact.attributes.firstName}}.</p>', text: 'Your order {{event.orderId}} is on its way.' } } },
    });
    const journeyId = await publishJourney(p, 'order updates', {
      trigger: { type: 'event', event: 'Order Placed' },
      entry: { mode: 'once' },
      start: 'wait_ship',
      nodes: {
        wait_ship: { type: 'wait_event', event: 'Order Shipped', timeout: '2d', onEvent: 'text', onTimeout: 'done' },
        text: { type: 'send', channel: 'sms', templateId: sms, next: 'mail' },
        mail: { type: 'send', channel: 'email', templateId: email, next: 'done' },
        done: { type: 'exit', reason: 'order updates finished' },
      },
    });

    const created = await p.api('crm', 'POST', '/v1/contacts', { externalId: 'cust-2001', email: 'greta@example.com', phone: '+4915133330001', attributes: { firstName: 'Greta' } });
    expect(created.status).toBe(201);
    const greta = created.body.id as string;
    expect((await p.api('crm', 'PUT', `/v1/contacts/${greta}/consent/sms`, { state: 'subscribed', source: 'checkout' })).status).toBe(200);
    await messagingKnows(p, email, greta, 'Greta');

    // She orders: the journey starts and waits for the shipment.
    await withSegment(p, (a) => a.track({ userId: 'cust-2001', event: 'Order Placed', properties: { orderId: 'GR-77' } }));
    const instance = await p.eventually(async () => (await journeyInstances(p, greta)).find((i) => i.journeyId === journeyId), "Greta's order-updates journey");
    expect(instance.status).toBe('active');

    // She texts STOP to the shop's number; Twilio posts it, signed.
    const stop = await sendTwilio(p, { MessageSid: 'SM5f0c0e2e7b1a4f0c9f6f1c2d3e4a5b6c', AccountSid: 'AC0e2e0123456789abcdef0123456789ab', From: '+4915133330001', To: '+15005550006', Body: 'STOP', NumMedia: '0', SmsStatus: 'received' });
    expect(stop.status).toBe(200);
    const consent = await p.eventually(async () => {
      const res = await p.api('crm', 'GET', `/v1/contacts/${greta}/consent`);
      return res.body?.current?.find((c: { channel: string; state: string }) => c.channel === 'sms' && c.state === 'unsubscribed');
    }, 'the SMS opt-out in the CRM');
    expect(consent).toMatchObject({ source: 'sms_stop' });

    // Journeys learns the opt-out from the CRM's event (seen here through a dry run of the journey).
    await p.eventually(async () => {
      const sim = await p.api('journeys', 'POST', `/v1/journeys/${journeyId}/simulate`, { contact: { id: greta }, payload: { orderId: 'SIM' }, events: [{ at: new Date(Date.now() + 1000).toISOString(), name: 'Order Shipped', properties: { orderId: 'SIM' } }] });
      return sim.status < 300 && !JSON.stringify(sim.body.messages ?? []).includes('"sms"');
    }, 'journeys to know about the opt-out');

    // The order ships.
    await withSegment(p, (a) => a.track({ userId: 'cust-2001', event: 'Order Shipped', properties: { orderId: 'GR-77' } }));
    const done = await p.eventually(async () => {
      const res = await p.api('journeys', 'GET', `/v1/journeys/instances/${instance.id}`);
      return res.body.instance.status !== 'active' ? res.body : undefined;
    }, 'the journey to finish');
    const text = done.history.find((h: { node: string }) => h.node === 'text');
    expect(text).toMatchObject({ outcome: 'skipped' });
    expect(text.reason).toMatch(/unsubscribed.*sms|sms.*unsubscribed/i);
    expect(done.history.find((h: { node: string }) => h.node === 'mail')).toMatchObject({ outcome: 'sent' });

    // Nothing went to Twilio for her; the email did go out.
    const mail = await p.eventually(() => p.smtp.received.find((m) => m.to === 'greta@example.com'), "Greta's shipping email");
    expect(mail.mail.subject).toBe('Order GR-77 shipped');
    expect(p.twilio.received.filter((m) => m.to === '+4915133330001')).toEqual([]);
    const messages = await p.api('messaging', 'GET', `/v1/contacts/${greta}/messages`);
    const list = Array.isArray(messages.body) ? messages.body : messages.body.items;
    expect(list.filter((m: { channel: string; status: string }) => m.channel === 'sms' && m.status === 'sent')).toEqual([]);
  });
}
