// Scenario 2: Shopify checkout webhooks start the abandoned-cart journey, which waits a short real
// timeout (5 s, standing in for the hour) for an order. A customer who orders in time gets nothing;
// one who does not gets a WhatsApp reminder (an approved template) inside her allowed hours, while
// one whose local time is in the quiet hours is held until they end. The reminder's WhatsApp
// status callbacks (delivered, read) reach analytics.
import { expect, it } from 'vitest';
import type { Platform } from '../support/platform';
import { sendShopify, sendWhatsApp } from '../support/webhooks';
import { journeyInstances, profile, publishJourney, publishTemplate, templateTotals } from './steps';

/** An IANA zone (Etc/GMT±N, note the inverted sign) in which it is now `localHour` o'clock. */
function zoneAtLocalHour(localHour: number, now = new Date()): string {
  for (let offset = -12; offset <= 14; offset++) {
    if ((now.getUTCHours() + offset + 24) % 24 === localHour) return offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
  }
  throw new Error(`no zone at local hour ${localHour}`);
}

export function abandonedCartScenario(platform: () => Platform): void {
  it('abandoned cart: Shopify checkout -> 5 s wait for an order -> WhatsApp reminder in allowed hours -> delivered/read in analytics', async () => {
    const p = platform();
    const template = await publishTemplate(p, {
      name: 'ac-cart-reminder',
      channel: 'whatsapp',
      // An approved WhatsApp template: the only kind allowed outside the 24-hour service window.
      content: { locales: { default: { templateName: 'cart_reminder', language: 'en', parameters: ['{{contact.attributes.firstName}}', '{{trigger.checkoutUrl}}'] } } },
    });
    const journeyId = await publishJourney(p, 'abandoned cart', {
      trigger: { type: 'event', event: 'Checkout Started', instancePer: 'checkoutId' },
      entry: { mode: 'once_at_a_time' },
      quietHours: { start: '21:00', end: '08:00', behavior: 'hold' },
      start: 'wait_order',
      nodes: {
        wait_order: { type: 'wait_event', event: 'Order Placed', timeout: '5s', onEvent: 'ordered', onTimeout: 'remind' },
        remind: { type: 'send', channel: 'whatsapp', templateId: template, next: 'reminded' },
        ordered: { type: 'exit', reason: 'ordered before the reminder' },
        reminded: { type: 'exit', reason: 'reminder sent' },
      },
    });

    // Three Shopify customers: Carla (13:00 where she lives), Dario (03:00, inside the quiet hours), Ema (orders in time).
    const people = [
      { key: 'carla', email: 'carla@example.com', phone: '+4915111110001', first: 'Carla', zone: zoneAtLocalHour(13) },
      { key: 'dario', email: 'dario@example.com', phone: '+4915111110002', first: 'Dario', zone: zoneAtLocalHour(3) },
      { key: 'ema', email: 'ema@example.com', phone: '+4915111110003', first: 'Ema', zone: zoneAtLocalHour(13) },
    ];
    const ids: Record<string, string> = {};
    for (const [i, person] of people.entries()) {
      // Shopify ids exceed 2^53: written as Shopify writes them, as bare numbers.
      const customer = `{"id":700123456789012345${i},"email":"${person.email}","first_name":"${person.first}","phone":"${person.phone}","accepts_marketing":true}`;
      expect((await sendShopify(p, 'customers/create', customer)).status).toBe(200);
      const contact = await profile(p, { email: person.email });
      expect(contact).toMatchObject({ externalId: person.email, phone: person.phone, attributes: { firstName: person.first } });
      // The shop's support sets where the customer lives (her allowed hours are local).
      expect((await p.api('crm', 'PATCH', `/v1/contacts/${contact.id}`, { timezone: person.zone })).status).toBe(200);
      ids[person.key] = contact.id;
    }
    // Journeys needs the contacts (and their zones) before the checkouts: a real cart comes minutes later.
    await p.eventually(async () => {
      const sim = await p.api('journeys', 'POST', `/v1/journeys/${journeyId}/simulate`, { contact: { id: ids['dario'] }, payload: { checkoutId: 'x' }, events: [] });
      return sim.status < 300 && JSON.stringify(sim.body).includes('quiet hours');
    }, "journeys' projection of Dario's time zone");

    const checkout = (n: number, email: string): string =>
      `{"id":98${n}2911946154508820,"token":"tok-${n}","email":"${email}","abandoned_checkout_url":"https://shop.example/recover/${n}","total_price":"59.90","currency":"EUR","line_items":[{"product_id":632910392123456789,"title":"Teapot","quantity":1,"price":"59.90"}]}`;
    for (const [n, person] of people.entries()) expect((await sendShopify(p, 'checkouts/create', checkout(n, person.email))).status).toBe(200);
    // Ema completes her order within the timeout.
    await p.eventually(async () => (await journeyInstances(p, ids['ema']!)).some((i) => i.journeyId === journeyId), "Ema's cart journey");
    expect((await sendShopify(p, 'orders/create', `{"id":820982911946154999,"email":"ema@example.com","order_number":1042,"total_price":"59.90","currency":"EUR","line_items":[]}`)).status).toBe(200);

    // Carla gets the reminder on WhatsApp, as the approved template with her name and cart link.
    const sent = await p.eventually(() => p.whatsapp.received.find((m) => m.to === '4915111110001'), "Carla's WhatsApp reminder", 30_000);
    expect(sent.raw).toMatchObject({
      messaging_product: 'whatsapp',
      type: 'template',
      template: { name: 'cart_reminder', language: { code: 'en' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'Carla' }, { type: 'text', text: 'https://shop.example/recover/0' }] }] },
    });

    const historyOf = async (contactId: string): Promise<{ instance: any; history: { node: string; outcome: string; reason?: string }[] }> => {
      const instance = (await journeyInstances(p, contactId)).find((i) => i.journeyId === journeyId);
      expect(instance).toBeDefined();
      return (await p.api('journeys', 'GET', `/v1/journeys/instances/${instance.id}`)).body;
    };
    // Dario's reminder is held until 08:00 where he lives; Ema's journey ended on her order.
    const dario = await p.eventually(async () => {
      const h = await historyOf(ids['dario']!);
      return h.history.some((s) => s.node === 'remind' && s.outcome === 'held') ? h : undefined;
    }, "Dario's reminder held for the quiet hours");
    expect(dario.history.find((s) => s.node === 'remind')!.reason).toContain(`quiet hours 21:00-08:00 in ${people[1]!.zone}`);
    expect(dario.instance.status).toBe('active');
    const ema = await p.eventually(async () => {
      const h = await historyOf(ids['ema']!);
      return h.instance.status !== 'active' ? h : undefined;
    }, "Ema's journey to end");
    expect(ema.instance).toMatchObject({ status: 'exited' });
    expect(ema.history.map((s) => s.node)).not.toContain('remind');
    expect(p.whatsapp.received.map((m) => m.to).sort()).toEqual(['4915111110001']);

    // WhatsApp reports the reminder delivered, then read, through the signed status webhook.
    const wamid = sent.providerMessageId;
    const ts = Math.floor(Date.now() / 1000);
    for (const [i, status] of ['delivered', 'read'].entries()) {
      const delivery = await sendWhatsApp(p, { statuses: [{ id: wamid, status, timestamp: String(ts + i), recipient_id: '4915111110001', conversation: { id: 'conv-1', origin: { type: 'marketing' } }, pricing: { billable: true, pricing_model: 'CBP', category: 'marketing' } }] });
      expect(delivery.status).toBe(200);
    }
    const totals = await p.eventually(async () => {
      const t = await templateTotals(p, template);
      return t['delivered'] === 1 && t['read'] === 1 ? t : undefined;
    }, 'delivered and read in the messaging report');
    expect(totals).toMatchObject({ sent: 1, delivered: 1, read: 1, failed: 0 });
    const messages = await p.api('messaging', 'GET', `/v1/contacts/${ids['carla']}/messages`);
    const listed = (Array.isArray(messages.body) ? messages.body : messages.body.items)[0];
    expect(listed.status).toBe('read');
    const record = (await p.api('messaging', 'GET', `/v1/messages/${listed.id}`)).body;
    expect(record.statusEvents.map((e: { status: string }) => e.status)).toEqual(expect.arrayContaining(['sent', 'delivered', 'read']));
  });
}
