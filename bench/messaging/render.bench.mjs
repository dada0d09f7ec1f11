// Messaging benchmarks (run: node bench/run.mjs messaging; needs the built code:
//   pnpm --filter @tessera/messaging build && for p in core email-smtp; do pnpm --filter @tessera/provider-$p build; done)
//
// 1. Render-and-hand-off: the send pipeline's per-message CPU work from the built service code
//    (apps/messaging/dist: required-variable check, locale pick, cached Handlebars render with a
//    layout partial, link rewriting + HMAC click/open tokens, building the provider message) handed
//    to an in-process fake EmailProvider (the port's abstract base from libs/providers/core/dist).
//    Printed beside the raw Handlebars render rate of the same compiled template, same run.
//    Not included: the bus, Postgres and the outbox of the real pipeline; send.bench.mjs measures
//    the whole path through the running service.
// 2. SMTP: the email-smtp provider (nodemailer, pooled) sending to a local smtp-server sink in a
//    child process, with 1 connection vs the pool.
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { figure } from '../lib/figures.mjs';

const root = join(new URL('.', import.meta.url).pathname, '..', '..');
const dist = (p) => join(root, p);
for (const f of ['apps/messaging/dist/templates/renderer.js', 'libs/providers/core/dist/index.js', 'libs/providers/email-smtp/dist/index.js']) {
  if (!existsSync(dist(f))) {
    console.error(`missing ${f}: build first (see the header of this file)`);
    process.exit(1);
  }
}
const require = createRequire(import.meta.url);
const { render } = require(dist('apps/messaging/dist/templates/renderer.js'));
const { rewriteHtml, TokenSigner } = require(dist('apps/messaging/dist/tracking/tokens.js'));
const { EmailProvider } = require(dist('libs/providers/core/dist/index.js'));
const { smtpEmail } = require(dist('libs/providers/email-smtp/dist/index.js'));
const Handlebars = createRequire(dist('apps/messaging/package.json'))('handlebars');

if (process.argv[2] === 'sink') {
  // Child process: a lean SMTP sink that accepts and discards every message.
  const { SMTPServer } = createRequire(dist('libs/providers/email-smtp/package.json'))('smtp-server');
  let count = 0;
  const server = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], logger: false, onData(stream, _s, cb) { stream.on('data', () => {}); stream.on('end', () => { count++; cb(); }); } });
  server.server.on('connection', (socket) => socket.setNoDelay(true));
  server.listen(0, '127.0.0.1', () => process.send({ port: server.server.address().port }));
  process.on('message', (m) => m === 'count' && process.send({ count }));
} else {
  await main();
}

async function main() {
  // ~1 KB HTML email with 10 variables and 3 links, plus subject and text.
  const html = `{{#> layout}}<table role="presentation" width="100%" style="font-family:Arial,sans-serif;color:#222">
<tr><td><h1 style="font-size:22px">Hello {{contact.attributes.firstName}} {{contact.attributes.lastName}},</h1>
<p>Your order <strong>{{order.id}}</strong> placed on {{order.date}} has shipped with {{order.carrier}}.</p>
<p>Tracking number: <a href="https://track.example.com/t/{{order.tracking}}">{{order.tracking}}</a></p>
<p>Total charged: {{order.total}} to the card ending {{order.last4}}. It should arrive in {{order.days}} business days.</p>
<p>Questions? Visit <a href="https://shop.example.com/help?order={{order.id}}">our help centre</a> or reply to this email.</p>
<p style="color:#666;font-size:12px">You receive this because you are a customer of Example Shop ({{contact.email}}).
Manage preferences at <a href="https://shop.example.com/prefs">your account</a>.</p></td></tr></table>{{/layout}}`;
  const layout = '<!doctype html><html><body style="margin:0;padding:16px;background:#f6f6f6">{{> @partial-block}}<p style="font-size:11px;color:#999">Example Shop, 1 Main Street, Springfield</p></body></html>';
  const content = { locales: { default: { subject: 'Order {{order.id}} shipped', html, text: 'Order {{order.id}} shipped: https://track.example.com/t/{{order.tracking}}' } } };
  const data = (i) => ({ contact: { email: `c${i}@example.com`, locale: 'en', timezone: 'Europe/Berlin', attributes: { firstName: 'Ann', lastName: `Lee${i}` } }, order: { id: `A-${i}`, date: '2026-11-22', carrier: 'DHL', tracking: `JD0146${i}`, total: '€42.50', last4: '4242', days: 3 } });
  console.log(`template: ${Buffer.byteLength(html) + Buffer.byteLength(layout)} bytes of HTML (body + layout), 10 variables, 3 links`);

  // Raw Handlebars: the same template compiled once, rendered N times.
  // The same three parts the pipeline renders (subject, HTML with its layout, text).
  const hb = Handlebars.create();
  hb.registerPartial('layout', layout);
  const parts = [hb.compile(content.locales.default.subject), hb.compile(html), hb.compile(content.locales.default.text)];
  const compiled = (d) => parts.map((p) => p(d)).join('');
  const N = 60_000;
  for (let i = 0; i < 2000; i++) compiled(data(i));
  let t = process.hrtime.bigint();
  let bytes = 0;
  for (let i = 0; i < N; i++) bytes += compiled(data(i)).length;
  const rawRate = N / (Number(process.hrtime.bigint() - t) / 1e9);

  // The pipeline's render + hand-off, from the built service code.
  class InProcessFake extends EmailProvider {
    sent = 0;
    async send(m) { this.sent++; bytes += m.html.length; return { providerMessageId: m.idempotencyKey }; }
  }
  const provider = new InProcessFake();
  const signer = new TokenSigner('bench-secret-0123456789abcdef0123456789');
  const base = 'https://links.example.com';
  const ids = Array.from({ length: 1024 }, () => crypto.randomUUID());
  const one = async (i) => {
    const id = ids[i & 1023];
    const d = data(i);
    const out = render({ cacheKey: 'bench-v1', channel: 'email', content, requiredVariables: ['order.id', 'contact.email'], data: d, locale: 'en-GB', partials: { layout }, partialsKey: 'p1' });
    const unsubscribeUrl = `${base}/v1/t/u/${signer.sign('u', id)}`;
    const tracked = rewriteHtml(out.html, (n) => `${base}/v1/t/c/${signer.sign('c', id, n)}`, `${base}/v1/t/o/${signer.sign('o', id)}.gif`, new Set([unsubscribeUrl]));
    await provider.send({ to: d.contact.email, subject: out.subject, html: tracked.html, text: out.text, unsubscribeUrl, idempotencyKey: id });
  };
  for (let i = 0; i < 2000; i++) await one(i);
  t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await one(i);
  const pipeRate = N / (Number(process.hrtime.bigint() - t) / 1e9);
  console.log(`raw Handlebars render (same 3 parts, compiled once):            ${Math.round(rawRate).toLocaleString('en')} renders/s`);
  console.log(`pipeline render + link tracking + hand-off to in-process fake:  ${Math.round(pipeRate).toLocaleString('en')} messages/s  (${(pipeRate / rawRate * 100).toFixed(0)}% of raw; target >= 10,000)`);
  figure({ area: 'messaging', name: 'render + link tracking + hand-off to the provider', value: pipeRate, unit: 'messages/s', target: { op: '>=', value: 10_000 }, raw: { name: 'Handlebars render, same template', value: rawRate, unit: 'renders/s' } });

  // SMTP through the provider to a sink in another process.
  const sink = fork(new URL(import.meta.url).pathname, ['sink'], { stdio: 'inherit' });
  const { port } = await new Promise((r) => sink.once('message', r));
  const sample = render({ cacheKey: 'bench-v1', channel: 'email', content, requiredVariables: [], data: data(1), partials: { layout }, partialsKey: 'p1' });
  const smtpRun = async (maxConnections, count, concurrency) => {
    const p = smtpEmail.create(Object.assign(new smtpEmail.optionsSchema(), { host: '127.0.0.1', port, requireTls: false, from: 'bench@example.com', maxConnections }));
    let next = 0;
    const start = process.hrtime.bigint();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        await p.send({ to: `c${i}@example.com`, subject: sample.subject, html: sample.html, text: sample.text, idempotencyKey: `bench-${maxConnections}-${i}` });
      }
    }));
    const rate = count / (Number(process.hrtime.bigint() - start) / 1e9);
    await p.close();
    return rate;
  };
  await smtpRun(5, 300, 20); // warm-up
  const single = await smtpRun(1, 1500, 20);
  const pooled = await smtpRun(5, 4000, 50);
  const pooled10 = await smtpRun(10, 4000, 100);
  console.log(`SMTP via email-smtp provider to local smtp-server, 1 connection: ${Math.round(single).toLocaleString('en')} messages/s`);
  console.log(`SMTP via email-smtp provider to local smtp-server, pool of 5:     ${Math.round(pooled).toLocaleString('en')} messages/s`);
  console.log(`SMTP via email-smtp provider to local smtp-server, pool of 10:    ${Math.round(pooled10).toLocaleString('en')} messages/s`);
  figure({ area: 'messaging', name: 'SMTP to a local server, pool of 10', value: pooled10, unit: 'messages/s' });
  sink.send('count');
  const { count } = await new Promise((r) => sink.once('message', r));
  console.log(`(sink accepted ${count.toLocaleString('en')} messages)`);
  sink.kill();
}
