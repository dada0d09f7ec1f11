// The whole platform under a steady mix, at 1x, 2x and 4x the data and the load (BENCH_PLATFORM_SCALES),
// beside the raw limits of its parts measured in the same run.
//
// Per scale, a fresh platform (all six services, one database, one bus namespace) and a real SMTP
// sink. Data: BENCH_PLATFORM_CONTACTS × scale contacts, identified through ingestion. Load, per second × scale,
// for BENCH_PLATFORM_SECONDS: 200 tracking events in /v1/batch calls of 20, 20 identify calls, 10 events that
// trigger a welcome journey sending an email, 10 transactional sends through messaging. A live
// segment (3+ page views in 7 days) makes segmentation evaluate in real time; analytics consumes all.
// Figures: events accepted/s, batch-call p99, event-to-inbox and send-to-inbox latency, how long the
// backlog takes to drain once the load stops, and CPU per 1,000 events for each service, Postgres
// and NATS: how the cost grows with scale. Needs `npm run build` first.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { SMTPServer } from 'smtp-server';
import { figure } from '../lib/figures.mjs';
import { pct } from '../lib/measure.mjs';
import { cpuByPid, cpuSecondsBetween, SERVICES, sleep, startPlatform } from '../lib/platform.mjs';
import { measureRawLimits } from '../lib/raw-limits.mjs';

const SCALES = (process.env.BENCH_PLATFORM_SCALES ?? '1,2,4').split(',').map(Number);
const CONTACTS = Number(process.env.BENCH_PLATFORM_CONTACTS ?? 5000);
const SECONDS = Number(process.env.BENCH_PLATFORM_SECONDS ?? 20);
const DRAIN_LIMIT_S = 120;
const PER_SECOND = { tracked: 200, identified: 20, triggers: 10, sends: 10 };
const BATCH = 20;
const now = () => performance.now();

function startSmtpSink(onMail) {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, done) {
      stream.resume();
      stream.on('end', () => {
        for (const rcpt of session.envelope.rcptTo) onMail(rcpt.address.toLowerCase());
        done();
      });
    },
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: server.server.address().port, close: () => new Promise((r) => server.close(r)) })));
}

/** Failed calls by path and status, printed with each scale. */
const failures = new Map();
const email = (user) => `${user}@bench.test`;

async function post(url, body, headers) {
  const started = now();
  const path = new URL(url).pathname;
  let status;
  try {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    await r.arrayBuffer();
    status = r.status;
  } catch (error) {
    status = error.cause?.code ?? error.name;
  }
  const ok = typeof status === 'number' && status < 300;
  if (!ok) failures.set(`${path} ${status}`, (failures.get(`${path} ${status}`) ?? 0) + 1);
  return { ok, status, ms: now() - started };
}

/** Runs `perSecond` calls of `fn` per second for `seconds`, evenly spaced, without waiting for answers. */
async function steady(perSecond, seconds, fn) {
  const total = Math.round(perSecond * seconds);
  const started = now();
  const pending = [];
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / perSecond - now();
    if (wait > 1) await sleep(wait);
    pending.push(fn(i));
  }
  return Promise.all(pending);
}

async function runScale(scale) {
  const arrivals = new Map();
  const sink = await startSmtpSink((address) => arrivals.has(address) || arrivals.set(address, now()));
  const platform = await startPlatform(`p${scale}x`);
  try {
    // Configuration, as an operator would do it over the APIs.
    await platform.call('messaging', 'POST', '/v1/providers', { name: 'smtp', channel: 'email', providerId: 'smtp', isDefault: true, options: { host: '127.0.0.1', port: sink.port, requireTls: false, from: 'hello@bench.test' } });
    const template = async (name, subject) => {
      const t = await platform.call('messaging', 'POST', '/v1/templates', { name, channel: 'email', content: { locales: { default: { subject, html: `<p>Hi {{contact.attributes.firstName}}</p><a href="https://shop.test/start">Start</a>`, text: 'Hi' } } } });
      await platform.call('messaging', 'POST', `/v1/templates/${t.id}/publish`);
      return t.id;
    };
    const welcome = await template('welcome', 'Welcome {{contact.attributes.firstName}}');
    const receipt = await template('receipt', 'Your receipt');
    const journey = await platform.call('journeys', 'POST', '/v1/journeys', { name: 'welcome', definition: { trigger: { type: 'event', event: 'Signed Up' }, entry: { mode: 'once' }, start: 'send', nodes: { send: { type: 'send', channel: 'email', templateId: welcome } } } });
    await platform.call('journeys', 'POST', `/v1/journeys/${journey.id}/publish`);
    await platform.call('segmentation', 'POST', '/v1/segments', { name: 'engaged', definition: { version: 1, root: { type: 'event', event: 'Viewed Page', count: { operator: 'at_least', value: 3 }, window: { last: { amount: 7, unit: 'days' } } } } }).catch((e) => console.log(`  (segment not created: ${e.message.slice(0, 200)})`));
    const source = await platform.call('ingestion', 'POST', '/v1/sources', { name: 'bench', kind: 'tracking' });
    const auth = { authorization: `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}` };
    const ingestion = platform.url('ingestion');

    // Data: contacts identified through ingestion, then the platform left to settle.
    const contacts = CONTACTS * scale;
    const seedStarted = now();
    for (let i = 0; i < contacts; i += 100) {
      const batch = Array.from({ length: Math.min(100, contacts - i) }, (_, j) => ({ type: 'identify', userId: `u${i + j}`, traits: { email: email(`u${i + j}`), firstName: `Name${i + j}`, plan: (i + j) % 3 ? 'free' : 'pro' } }));
      const r = await post(`${ingestion}/v1/batch`, { batch }, auth);
      if (!r.ok) throw new Error(`seeding failed with ${r.status}`);
    }
    const settle = async () => {
      const started = now();
      while ((await platform.backlog()) > 0) {
        if (now() - started > DRAIN_LIMIT_S * 1000) return Infinity;
        await sleep(250);
      }
      return (now() - started) / 1000;
    };
    await settle();
    console.log(`  ${scale}x: ${contacts.toLocaleString('en')} contacts identified and projected in ${((now() - seedStarted) / 1000).toFixed(1)} s`);

    // Disjoint pools: journey triggers and transactional sends each go to contacts seen once.
    const triggers = Math.round(PER_SECOND.triggers * scale * SECONDS);
    const sends = Math.round(PER_SECOND.sends * scale * SECONDS);
    const sendUsers = Array.from({ length: sends }, (_, i) => `u${contacts - 1 - i}`);
    const contactIds = new Map();
    for (let i = 0; i < sendUsers.length; i += 50) {
      await Promise.all(
        sendUsers.slice(i, i + 50).map(async (user) => {
          const found = await platform.call('crm', 'GET', `/v1/contacts/lookup?externalId=${user}`);
          contactIds.set(user, found.id);
        }),
      );
    }

    const cpuBefore = platform.cpu();
    const sharedBefore = { postgres: cpuByPid('postgres'), nats: cpuByPid('nats-server') };
    const posted = new Map(); // address -> when its email was caused
    const batchMs = [];
    let accepted = 0;
    let failedCalls = 0;
    const page = (i) => ({ type: 'track', userId: `u${(i * 7919) % contacts}`, event: 'Viewed Page', properties: { path: `/products/${i % 500}`, referrer: 'https://search.test/?q=lamp', title: 'A product page with a fairly long title' } });
    const loadStarted = now();
    await Promise.all([
      steady((PER_SECOND.tracked * scale) / BATCH, SECONDS, async (i) => {
        const r = await post(`${ingestion}/v1/batch`, { batch: Array.from({ length: BATCH }, (_, j) => page(i * BATCH + j)) }, auth);
        batchMs.push(r.ms);
        if (r.ok) accepted += BATCH;
        else failedCalls++;
      }),
      steady(PER_SECOND.identified * scale, SECONDS, async (i) => {
        const r = await post(`${ingestion}/v1/identify`, { userId: `u${(i * 104729) % contacts}`, traits: { lastSeenAt: new Date().toISOString(), visits: i } }, auth);
        if (r.ok) accepted++;
        else failedCalls++;
      }),
      steady(PER_SECOND.triggers * scale, SECONDS, async (i) => {
        const at = now();
        const r = await post(`${ingestion}/v1/track`, { userId: `u${i}`, event: 'Signed Up', properties: { plan: 'pro' } }, auth);
        if (r.ok) accepted++, posted.set(email(`u${i}`), at);
        else failedCalls++;
      }),
      steady(PER_SECOND.sends * scale, SECONDS, async (i) => {
        const user = sendUsers[i];
        const at = now();
        const r = await post(`${platform.url('messaging')}/v1/messages`, { idempotencyKey: randomUUID(), contactId: contactIds.get(user), channel: 'email', templateId: receipt, data: { order: i } }, { authorization: `Bearer ${platform.adminKey}` });
        if (r.ok) posted.set(email(user), at);
        else failedCalls++;
      }),
    ]);
    const loadSeconds = (now() - loadStarted) / 1000;
    const drainStarted = now();
    const drained = await settle();
    while (arrivals.size < posted.size && now() - drainStarted < DRAIN_LIMIT_S * 1000) await sleep(100);
    const drainSeconds = (now() - drainStarted) / 1000;
    if (!Number.isFinite(drained)) console.log(`      still waiting after ${DRAIN_LIMIT_S} s: ${JSON.stringify(await platform.backlogByConsumer())}`);
    const cpuAfter = platform.cpu();
    const shared = { postgres: cpuSecondsBetween(sharedBefore.postgres, cpuByPid('postgres')), nats: cpuSecondsBetween(sharedBefore.nats, cpuByPid('nats-server')) };

    const latency = (addresses) => addresses.filter((a) => posted.has(a) && arrivals.has(a)).map((a) => arrivals.get(a) - posted.get(a));
    const journeyLatency = latency(Array.from({ length: triggers }, (_, i) => email(`u${i}`)));
    const sendLatency = latency(sendUsers.map(email));
    const used = { ...Object.fromEntries(SERVICES.map((k) => [k, cpuAfter[k] - cpuBefore[k]])), ...shared };
    const cpuMsPerThousand = Object.fromEntries(Object.entries(used).map(([k, seconds]) => [k, (seconds * 1e6) / Math.max(accepted, 1)]));
    return { scale, contacts, accepted, failedCalls, loadSeconds, batchMs, journeyLatency, triggers, sendLatency, sends, drainSeconds: Number.isFinite(drained) ? drainSeconds : Infinity, cpuMsPerThousand };
  } finally {
    await platform.stop();
    await sink.close();
  }
}

const raw = await measureRawLimits();
console.log('raw limits on this machine, this run:');
for (const r of Object.values(raw)) console.log(`  ${r.name}: ${Math.round(r.value).toLocaleString('en')} ${r.unit}`);
for (const r of Object.values(raw)) figure({ area: 'raw', name: r.name, value: r.value, unit: r.unit });

const results = [];
for (const scale of SCALES) {
  const r = await runScale(scale);
  results.push(r);
  const rate = r.accepted / r.loadSeconds;
  console.log(
    `  ${scale}x: ${Math.round(rate).toLocaleString('en')} events/s accepted (${r.accepted.toLocaleString('en')} in ${r.loadSeconds.toFixed(1)} s, ${r.failedCalls} failed calls); /v1/batch p50 ${pct(r.batchMs, 50).toFixed(1)} ms p99 ${pct(r.batchMs, 99).toFixed(1)} ms`,
  );
  if (failures.size) console.log(`      failed calls: ${JSON.stringify(Object.fromEntries(failures))}`);
  failures.clear();
  console.log(`      event -> journey -> inbox: ${r.journeyLatency.length}/${r.triggers} emails, p50 ${pct(r.journeyLatency, 50).toFixed(0)} ms, p99 ${pct(r.journeyLatency, 99).toFixed(0)} ms`);
  console.log(`      POST /v1/messages -> inbox: ${r.sendLatency.length}/${r.sends} emails, p50 ${pct(r.sendLatency, 50).toFixed(0)} ms, p99 ${pct(r.sendLatency, 99).toFixed(0)} ms`);
  console.log(`      backlog drained ${Number.isFinite(r.drainSeconds) ? `${r.drainSeconds.toFixed(1)} s` : `not within ${DRAIN_LIMIT_S} s`} after the load stopped; load average ${os.loadavg()[0].toFixed(1)}`);
  figure({ area: 'platform', name: `${scale}x mix: events accepted`, value: rate, unit: 'events/s', raw: { name: raw.http.name, value: raw.http.value, unit: 'req/s' } });
  figure({ area: 'platform', name: `${scale}x mix: event -> journey email in inbox, p99`, value: pct(r.journeyLatency, 99), unit: 'ms' });
  figure({ area: 'platform', name: `${scale}x mix: transactional send -> inbox, p99`, value: pct(r.sendLatency, 99), unit: 'ms' });
}

// How cost grows: CPU milliseconds per 1,000 accepted events, per process, at each scale.
const parts = [...SERVICES, 'postgres', 'nats'];
console.log(`\nCPU ms per 1,000 accepted events (load + drain), by scale:`);
console.log(`  ${'scale'.padEnd(6)} ${parts.map((p) => p.padStart(13)).join('')} ${'total'.padStart(10)}`);
for (const r of results) {
  const total = parts.reduce((sum, p) => sum + r.cpuMsPerThousand[p], 0);
  console.log(`  ${`${r.scale}x`.padEnd(6)} ${parts.map((p) => r.cpuMsPerThousand[p].toFixed(0).padStart(13)).join('')} ${total.toFixed(0).padStart(10)}`);
  figure({ area: 'platform', name: `${r.scale}x mix: CPU per 1,000 events, all processes`, value: total, unit: 'CPU ms' });
}
const failed = results.some((r) => r.failedCalls > 0 || r.journeyLatency.length < r.triggers || r.sendLatency.length < r.sends);
if (failed) console.log('\nSOME CALLS FAILED OR EMAILS DID NOT ARRIVE (see above)');
process.exit(failed ? 1 : 0);
