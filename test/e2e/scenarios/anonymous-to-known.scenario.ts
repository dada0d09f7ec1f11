// Scenario 3: a visitor browses anonymously (the browser's analytics.js posts text/plain to the
// short paths), then signs up (identify with her anonymousId). The CRM makes her known; the views
// she made before signing up count toward "engaged shoppers", and she enters the welcome journey;
// her "Signed Up" event, sent with the identify, starts the journey it triggers.
import { expect, it } from 'vitest';
import type { Platform } from '../support/platform';
import { createSegment, journeyInstances, profile, publishJourney, publishTemplate } from './steps';

/** What analytics.js sends from a browser: text/plain (no CORS preflight), the write key in the body. */
async function browser(p: Platform, path: string, body: Record<string, unknown>): Promise<void> {
  const now = new Date().toISOString();
  const res = await fetch(`${p.url('ingestion')}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', origin: 'https://shop.example' },
    body: JSON.stringify({ writeKey: p.writeKey, messageId: `ajs-next-${crypto.randomUUID()}`, timestamp: now, sentAt: now, context: { library: { name: 'analytics.js', version: 'next-1.70.0' }, page: { url: 'https://shop.example/teapots' } }, ...body }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

export function anonymousToKnownScenario(platform: () => Platform): void {
  it('anonymous to known: anonymous views, then identify -> the earlier views count toward a segment -> welcome journey', async () => {
    const p = platform();
    const template = await publishTemplate(p, {
      name: 'ak-welcome',
      channel: 'email',
      content: { locales: { default: { subject: 'Welcome, {{contact.attributes.firstName}}', html: '<p>Welcome to the shop, {{contact.attributes.firstName}}!</p>', text: 'Welcome!' } } },
    });
    const engaged = await createSegment(p, 'engaged shoppers', { type: 'event', event: 'Product Viewed', count: { operator: 'at_least', value: 3 }, window: { last: { amount: 7, unit: 'days' } } });
    const journeyId = await publishJourney(p, 'welcome', {
      trigger: { type: 'segment_entered', segmentId: engaged },
      entry: { mode: 'once' },
      start: 'welcome',
      nodes: { welcome: { type: 'send', channel: 'email', templateId: template } },
    });
    const signUpId = await publishJourney(p, 'sign-up thanks', { trigger: { type: 'event', event: 'Signed Up' }, start: 'done', nodes: { done: { type: 'exit', reason: 'thanked' } } });

    const anonymousId = `0f7c2a1e-${Date.now().toString(16)}`;
    await browser(p, '/v1/p', { type: 'page', anonymousId, name: 'Teapots', properties: { path: '/teapots' } });
    for (const sku of ['TP-1', 'TP-2', 'TP-3']) await browser(p, '/v1/t', { type: 'track', anonymousId, event: 'Product Viewed', properties: { sku } });
    // Ingestion has them (for the anonymous visitor), and nobody is in the segment yet.
    await p.eventually(async () => (await p.api('ingestion', 'GET', `/v1/archive?anonymousId=${anonymousId}`)).body?.length === 4, 'the anonymous events in the archive');
    expect((await p.api('segmentation', 'GET', `/v1/segments/${engaged}/count`)).body.count).toBe(0);

    // She signs up: the site identifies her with the same anonymousId.
    await browser(p, '/v1/i', { type: 'identify', anonymousId, userId: 'cust-3001', traits: { email: 'ines@example.com', firstName: 'Ines' } });
    // At once, as sites do: her sign-up event reaches journeys before the CRM's news of her profile.
    await browser(p, '/v1/t', { type: 'track', anonymousId, userId: 'cust-3001', event: 'Signed Up', properties: { plan: 'free' } });
    const ines = await profile(p, { externalId: 'cust-3001' });
    expect(ines).toMatchObject({ email: 'ines@example.com', attributes: { firstName: 'Ines' } });
    expect((await profile(p, { anonymousId }, 'her anonymous id')).id).toBe(ines.id);

    // The three views she made anonymously count: she is in the segment...
    const member = await p.eventually(async () => {
      const res = await p.api('segmentation', 'GET', `/v1/contacts/${ines.id}/segments`);
      return (Array.isArray(res.body) ? res.body : (res.body?.items ?? [])).find((m: { segmentId: string }) => m.segmentId === engaged);
    }, 'Ines in "engaged shoppers" by her anonymous views');
    expect(member).toBeDefined();
    // ...and enters the welcome journey, which greets her by email.
    const instance = await p.eventually(async () => (await journeyInstances(p, ines.id)).find((i) => i.journeyId === journeyId), 'Ines in the welcome journey');
    expect(instance).toBeDefined();
    // The sign-up event waited in journeys for her contact, then started its journey.
    await p.eventually(async () => (await journeyInstances(p, ines.id)).find((i) => i.journeyId === signUpId), 'Ines in the sign-up journey');
    const mail = await p.eventually(() => p.smtp.received.find((m) => m.to === 'ines@example.com'), 'the welcome email');
    expect(mail.mail.subject).toBe('Welcome, Ines');
  });
}
