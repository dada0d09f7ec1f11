import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceName } from '@tessera/contracts';
import { ALL_SERVICES, api, startPlatform, waitUntil, type Platform } from './harness';
import { startFakeVendor, type FakeVendor } from './fake-vendor';
import { SteadyLoad } from './load';
import { startPrivateNats, startPrivatePostgres, type PrivateNats, type PrivatePostgres } from './private-infra';

// Fault tolerance (issue #10, item 2). The six services run as processes on a NATS server and a
// Postgres cluster of this file's own. A steady stream of tracking events drives a journey that
// sends one webhook message per event to a local vendor. During the stream we kill and restart
// each service, restart NATS, restart Postgres, and make the vendor slow, then failing. After each,
// every accepted event has been delivered exactly once, every service is ready again without help,
// and nothing is left pending.

const ADMIN_KEY = 'tsk_faults_admin_key_0123456789abcdefghijkl';
const WRITE_KEY = 'wk_faults_write_key_0123456789abcdefghijk';
const RATE = Number(process.env.FAULTS_RATE ?? 10);
const CONTACTS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** FAULTS_LOG=<file> follows the run as it goes (vitest shows a test's output only at its end). */
const progress = (message: string): void => {
  if (process.env.FAULTS_LOG) appendFileSync(process.env.FAULTS_LOG, `${new Date().toISOString()} ${message}\n`);
};

describe('fault tolerance under a steady load', () => {
  let nats: PrivateNats;
  let pg: PrivatePostgres;
  let vendor: FakeVendor;
  let platform: Platform;
  let load: SteadyLoad;
  let templateId: string;

  const allReady = async (): Promise<void> => {
    for (const service of ALL_SERVICES) await platform.services[service].waitReady(120_000);
  };

  /** Every accepted event delivered once; nothing pending anywhere; every service ready. */
  const expectDrained = async (label: string): Promise<void> => {
    progress(`${label}: load stopped; ${load.accepted.size} accepted, ${vendor.delivered().size} delivered`);
    await load.stop();
    progress(`${label}: every sent event accepted; ${load.accepted.size} accepted, ${vendor.delivered().size} delivered`);
    expect(load.refused, `${label}: events refused as bad input`).toEqual([]);
    expect(load.gaveUp, `${label}: events never accepted by ingestion`).toEqual([]);
    const accepted = [...load.accepted.values()];
    const missing = () => accepted.filter((e) => !vendor.delivered().has(e.probeId));
    await waitUntil(async () => missing().length === 0, `${label}: every accepted event delivered`, 120_000, 250).catch((error: Error) => {
      const lost = missing();
      const byPhase = lost.reduce<Record<string, number>>((acc, e) => ({ ...acc, [e.phase]: (acc[e.phase] ?? 0) + 1 }), {});
      const crashed = ALL_SERVICES.filter((s) => !platform.services[s].running()).map((s) => `${s} exited:\n${platform.services[s].output().slice(-2000)}`);
      // A loss is rare and timing-dependent: keep every service's log and the lost probes to trace them afterwards.
      const kept = mkdtempSync(join(tmpdir(), 'tessera-faults-'));
      for (const s of ALL_SERVICES) writeFileSync(join(kept, `${s}.log`), platform.services[s].output());
      writeFileSync(join(kept, 'lost.json'), JSON.stringify(lost, null, 2));
      throw new Error(`${error.message}: ${lost.length} of ${accepted.length} missing, by fault window ${JSON.stringify(byPhase)} (service logs and lost probes kept in ${kept})\n${crashed.join('\n')}`);
    });
    // Sent twice = one event delivered under two message ids (a vendor cannot de-duplicate that).
    const twice = [...vendor.delivered().entries()].filter(([, keys]) => keys.length > 1);
    expect(twice, `${label}: events delivered twice`).toEqual([]);
    // Deliveries of events nobody sent would mean a replay gone wrong.
    expect([...vendor.delivered().keys()].filter((p) => !load.accepted.has(p)), `${label}: deliveries of unknown events`).toEqual([]);
    await allReady();
    progress(`${label}: drained (${accepted.length} events, ${vendor.repeats()} repeats absorbed by the idempotency key)`);
  };

  beforeAll(async () => {
    [nats, pg, vendor] = await Promise.all([startPrivateNats(), startPrivatePostgres(), startFakeVendor()]);
    platform = await startPlatform({
      databaseUrl: pg.url,
      natsUrl: nats.url,
      namespace: 'faults',
      adminKey: ADMIN_KEY,
      writeKey: WRITE_KEY,
      // A sender killed mid-send holds its message for this long before another delivery takes it over.
      env: { MESSAGING_SEND_LEASE_SECONDS: '5', MESSAGING_RETRY_BASE_MS: '100' },
    });
    const admin = (service: ServiceName) => api(platform.url(service), ADMIN_KEY);
    const provider = await admin('messaging')('POST', '/v1/providers', { name: 'vendor', channel: 'webhook', providerId: 'webhook', options: { baseUrl: vendor.url, secret: 'fault-vendor-secret-0123456789', timeoutMs: 3000 }, isDefault: true });
    expect(provider.status, provider.text).toBe(201);
    const template = await admin('messaging')<{ id: string }>('POST', '/v1/templates', { name: 'fault-probe', channel: 'webhook', content: { locales: { default: { payload: '{"probeId":"{{trigger.probeId}}"}' } } } });
    expect(template.status, template.text).toBe(201);
    templateId = template.body.id;
    expect((await admin('messaging')('POST', `/v1/templates/${templateId}/publish`)).status).toBeLessThan(300);
    const journey = await admin('journeys')<{ id: string }>('POST', '/v1/journeys', {
      name: 'fault probe',
      definition: {
        trigger: { type: 'event', event: 'Fault Probe', instancePer: 'probeId' },
        quietHours: null,
        frequencyCaps: { behavior: 'skip', ignore: true },
        start: 'send',
        nodes: { send: { type: 'send', channel: 'webhook', templateId, next: 'done' }, done: { type: 'exit', reason: 'sent' } },
      },
    });
    expect(journey.status, journey.text).toBe(201);
    expect((await admin('journeys')('POST', `/v1/journeys/${journey.body.id}/publish`)).status).toBeLessThan(300);
    const userIds = Array.from({ length: CONTACTS }, (_, i) => `fault-user-${i}`);
    for (const externalId of userIds) expect((await admin('crm')('POST', '/v1/contacts', { externalId })).status).toBe(201);
    load = new SteadyLoad(platform.url('ingestion'), WRITE_KEY, userIds);
    // Journeys learns the contacts from the CRM's events; an event from a contact it does not know
    // yet enters nobody. Wait until one probe per contact has gone all the way through.
    await waitUntil(async () => {
      const probes = await Promise.all(Array.from({ length: CONTACTS }, (_, i) => load.sendOne(`fault-user-${i}`)));
      return waitUntil(async () => probes.every((p) => vendor.delivered().has(p)), 'a round of probes', 30_000, 250).catch(() => false);
    }, 'one probe of every contact to be delivered', 180_000, 0);
    progress('warm-up delivered');
    load.accepted.clear();
    vendor.delivered().clear();
    progress('platform ready');
  }, 600_000);

  afterAll(async () => {
    if (process.env.FAULTS_LOG && platform) appendFileSync(`${process.env.FAULTS_LOG}.services`, platform.output());
    await load?.abort();
    await platform?.stop();
    await Promise.all([nats?.stop(), pg?.stop(), vendor?.close()]);
  }, 120_000);

  it('delivers every event once with nothing wrong (the baseline)', { timeout: 240_000 }, async () => {
    load.phase = 'baseline';
    load.start(RATE);
    await sleep(3000);
    await expectDrained('baseline');
  });

  it('loses and doubles nothing when each service in turn is killed (SIGKILL) and restarted', { timeout: 600_000 }, async () => {
    load.start(RATE);
    for (const service of ALL_SERVICES) {
      load.phase = `kill ${service}`;
      await sleep(1500);
      progress(`killing ${service}`);
      await platform.services[service].kill('SIGKILL');
      await sleep(1000);
      await platform.services[service].start();
      progress(`${service} ready again`);
    }
    load.phase = 'after kills';
    await sleep(1500);
    await expectDrained('service kills');
  });

  it('loses and doubles nothing when NATS restarts', { timeout: 240_000 }, async () => {
    load.phase = 'nats restart';
    load.start(RATE);
    await sleep(2000);
    await nats.restart();
    await sleep(3000);
    await expectDrained('NATS restart');
  });

  it('loses and doubles nothing when Postgres restarts (crash stop, recovery on start)', { timeout: 240_000 }, async () => {
    load.phase = 'postgres restart';
    load.start(RATE);
    await sleep(2000);
    await pg.restart('immediate');
    await sleep(3000);
    await expectDrained('Postgres restart');
  });

  it('loses and doubles nothing with a slow channel provider', { timeout: 240_000 }, async () => {
    load.phase = 'slow vendor';
    vendor.set({ delayMs: 1500 });
    load.start(RATE);
    await sleep(4000);
    vendor.set({ delayMs: 0 });
    await expectDrained('slow provider');
  });

  it('loses and doubles nothing with a failing channel provider, once it recovers', { timeout: 240_000 }, async () => {
    load.phase = 'failing vendor';
    vendor.set({ failWith: 503 });
    load.start(RATE);
    await sleep(3000);
    vendor.set({ failWith: null });
    load.phase = 'vendor recovered';
    await sleep(1000);
    await expectDrained('failing provider');
    expect(vendor.refused(), 'the vendor did refuse sends during its outage').toBeGreaterThan(0);
  });
});
