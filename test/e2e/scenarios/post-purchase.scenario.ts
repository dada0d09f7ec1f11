// Scenario 1 (and item 5 of issue #10): a Stripe-signed payment -> the contact's profile -> segment
// "paid customers" entered -> the post-purchase journey sends a thank-you email, read back from the
// SMTP sink -> the customer clicks its tracked link and lands on the shop, whose backend tracks the
// goal event -> the goal is counted in analytics. One trace runs from the webhook request to the
// email send, across every service involved, read from the OTLP receiver.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import type { ReceivedSpan } from '@tessera/testing';
import type { Platform } from '../support/platform';
import { sendStripe } from '../support/webhooks';
import { createSegment, journeyInstances, messagingKnows, profile, publishJourney, publishTemplate, report, templateTotals, withSegment } from './steps';

/** The shop's site: its review page tracks "Review Started" for the visitor through the Segment SDK. */
async function startShop(p: Platform): Promise<{ url: string; visits: string[]; close: () => Promise<void> }> {
  const visits: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://shop');
    visits.push(url.pathname + url.search);
    const contactId = url.searchParams.get('c');
    const track = contactId ? withSegment(p, (a) => a.track({ userId: contactId, event: 'Review Started', properties: { orderId: url.searchParams.get('order') } })) : Promise.resolve();
    track.then(
      () => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Tell us what you think</h1>'),
      () => res.writeHead(500).end(),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, visits, close: () => new Promise((r) => server.close(() => r())) };
}

export function postPurchaseScenario(platform: () => Platform): void {
  it('post-purchase: Stripe payment -> segment -> thank-you email -> click -> goal in analytics, in one trace', async () => {
    const p = platform();
    const shop = await startShop(p);
    try {
      // The operator's set-up, over the management APIs.
      const template = await publishTemplate(p, {
        name: 'pp-thank-you',
        channel: 'email',
        content: {
          locales: {
            default: {
              subject: 'Thank you for your order, {{contact.attributes.firstName}}',
              html: `<p>Hi {{contact.attributes.firstName}}, thanks for buying from us.</p><p><a href="${shop.url}/reviews/new?c={{contact.id}}&amp;order={{trigger.orderId}}">Write a review</a></p>`,
              text: 'Hi {{contact.attributes.firstName}}, thanks for buying from us.',
            },
          },
        },
      });
      const paid = await createSegment(p, 'paid customers', { type: 'event', event: 'Payment Succeeded', count: { operator: 'at_least', value: 1 } });
      const journeyId = await publishJourney(p, 'post-purchase', {
        trigger: { type: 'segment_entered', segmentId: paid },
        entry: { mode: 'once' },
        goals: [{ id: 'reviewed', event: 'Review Started' }],
        start: 'thank',
        nodes: {
          thank: { type: 'send', channel: 'email', templateId: template, next: 'wait_review' },
          wait_review: { type: 'wait', duration: '7d' },
        },
      });

      // The customer signs up on the shop (its backend identifies her), then pays through Stripe.
      await withSegment(p, (a) => a.identify({ userId: 'cust-1001', traits: { email: 'ann.buyer@example.com', firstName: 'Ann' } }));
      const ann = await profile(p, { externalId: 'cust-1001' });
      expect(ann).toMatchObject({ email: 'ann.buyer@example.com', attributes: { firstName: 'Ann' } });
      await messagingKnows(p, template, ann.id, 'Ann');

      const payment = await sendStripe(p, {
        type: 'payment_intent.succeeded',
        data: { object: { id: 'pi_3PostPurchase', object: 'payment_intent', amount: 4990, currency: 'eur', status: 'succeeded', receipt_email: 'ann.buyer@example.com', metadata: { userId: 'cust-1001' } } },
      });
      expect(payment).toEqual({ status: 200, text: '{"success":true}' });

      // The profile as segmentation sees it: in "paid customers", and why.
      const membership = await p.eventually(async () => {
        const res = await p.api('segmentation', 'GET', `/v1/contacts/${ann.id}/segments`);
        const items = Array.isArray(res.body) ? res.body : (res.body?.items ?? []);
        return items.find((m: { segmentId: string }) => m.segmentId === paid);
      }, 'Ann in "paid customers"');
      expect(membership.reason).toBeDefined();

      // The thank-you email, as the SMTP server received it.
      const mail = await p.eventually(() => p.smtp.received.find((m) => m.to === 'ann.buyer@example.com'), 'the thank-you email in the SMTP sink');
      expect(mail.mail.subject).toBe('Thank you for your order, Ann');
      expect(mail.mail.from?.text).toContain('hello@shop.tessera.test');
      const html = String(mail.mail.html);
      const tracked = /href="([^"]*\/v1\/t\/c\/[^"]+)"/.exec(html)?.[1];
      expect(tracked, html).toBeDefined();
      expect(tracked!.startsWith(`${p.url('messaging')}/v1/t/c/`)).toBe(true);
      expect(html).not.toContain(`${shop.url}/reviews`); // the shop link is only reachable through tracking

      // The click: messaging redirects to the shop, whose page tracks the goal event.
      const landed = await fetch(tracked!.replace(/&amp;/g, '&'));
      expect(landed.status).toBe(200);
      expect(landed.url.startsWith(`${shop.url}/reviews/new?c=${ann.id}`)).toBe(true);
      expect(shop.visits).toHaveLength(1);

      // The goal ends the journey as converted...
      const instance = await p.eventually(async () => (await journeyInstances(p, ann.id)).find((i) => i.journeyId === journeyId && i.status === 'converted'), 'the journey instance converted');
      const detail = await p.api('journeys', 'GET', `/v1/journeys/instances/${instance.id}`);
      expect(detail.body.history.map((h: { node: string; outcome: string }) => `${h.node}:${h.outcome}`)).toContain('thank:sent');

      // ...and analytics counts it: the journey's goal and conversion, the email's click.
      const journeyReport = await p.eventually(async () => {
        const r = await report(p, `journeys/${journeyId}`);
        return r.totals.goals === 1 ? r : undefined;
      }, 'the goal in the journey report');
      expect(journeyReport.totals).toMatchObject({ entered: 1, goals: 1, messagesRequested: 1 });
      expect(journeyReport.conversion).toMatchObject({ instances: 1, conversions: 1, conversionRate: 1 });
      const email = await p.eventually(async () => {
        const t = await templateTotals(p, template);
        return t['clicked'] === 1 ? t : undefined;
      }, 'the click in the messaging report');
      expect(email).toMatchObject({ sent: 1, clicked: 1 });

      // Item 5: one trace from the Stripe webhook request to the email send, across every service on the way.
      const spans = await p.eventually(() => {
        const { request, trace } = webhookTrace(p);
        if (!request) return undefined;
        const has = (service: string, name: string): boolean => trace.some((s) => s.service === service && s.name === name);
        const complete =
          has('segmentation', 'ingestion.event.received.v1 process') &&
          has('journeys', 'segmentation.membership.entered.v1 process') &&
          has('messaging', 'journeys.message.requested.v1 process') &&
          has('analytics', 'messaging.message.status_changed.v1 process');
        // Each service exports its spans in batches, and a parent span ends (and is exported) after its
        // children: a child whose parent has not arrived yet is in flight, not an orphan, so wait for it.
        return complete && orphans(trace, request).length === 0 ? { request, trace } : undefined;
      }, 'one trace from the Stripe webhook to the email send, every span under the request').catch((e: Error) => {
        const { request, trace } = webhookTrace(p);
        throw new Error(
          `${e.message}; spans: ${JSON.stringify(trace.filter((s) => !s.name.startsWith('pg')).map((s) => [s.service, s.name]))}; orphans: ${JSON.stringify(request ? orphans(trace, request) : [])}`,
        );
      });
      const services = new Set(spans.trace.map((s) => s.service));
      expect([...services].sort()).toEqual(['analytics', 'ingestion', 'journeys', 'messaging', 'segmentation']);
      // Every span of the trace hangs from the webhook request: no orphan roots.
      expect(orphans(spans.trace, spans.request)).toEqual([]);
      // The send itself, recorded by messaging in that trace.
      const sendSpan = spans.trace.find((s) => s.service === 'messaging' && s.name === 'journeys.message.requested.v1 process')!;
      expect(sendSpan.traceId).toBe(spans.request.traceId);
    } finally {
      await shop.close();
    }
  });
}

/** The Stripe webhook request's server span, and every span collected so far in its trace. */
function webhookTrace(p: Platform): { request?: ReceivedSpan; trace: ReceivedSpan[] } {
  const all = p.otlp.spans();
  const request = all.find((s) => s.service === 'ingestion' && s.kind === 2 && String(s.attributes['url.path'] ?? s.attributes['http.target'] ?? '').startsWith('/v1/webhooks/stripe/'));
  return { request, trace: request ? all.filter((s) => s.traceId === request.traceId) : [] };
}

/** The spans of a trace, other than its root request, whose parent is not in the trace, as `service:name`. */
function orphans(trace: ReceivedSpan[], request: ReceivedSpan): string[] {
  const ids = new Set(trace.map((s) => s.spanId));
  return trace.filter((s) => s !== request && (!s.parentSpanId || !ids.has(s.parentSpanId))).map((s) => `${s.service}:${s.name}`);
}
