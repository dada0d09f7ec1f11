// The whole platform as `npm start` runs it, for end-to-end tests: the six built services as
// processes (`node apps/<svc>/dist/main.js`) on one fresh database and one bus namespace, exporting
// traces to a local OTLP receiver, with a real SMTP sink and local Twilio and WhatsApp Cloud API
// servers speaking their vendors' wire formats. Tests drive it only over HTTP.
//
//   const p = await startPlatform({ label: 'postpurchase' });
//   const contact = await p.api('crm', 'POST', '/v1/contacts', { email: 'a@example.com' });
//   await p.eventually(async () => p.smtp.received.find((m) => m.to === 'a@example.com'), 'the email');
//   await p.close();
//
// Fault tests: `p.stopService('journeys', 'SIGKILL')`, then `p.startService('journeys')` (same port,
// same environment), `p.logs('journeys')` (every run's output, for log scans).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { ServiceName } from '@tessera/contracts';
import type { FakeHttpVendor } from '@tessera/provider-core/testing';
import { SmtpSink } from '@tessera/provider-email-smtp/testing';
import { startFakeTwilio } from '@tessera/provider-sms-twilio/testing';
import { startFakeWhatsApp } from '@tessera/provider-whatsapp-cloud/testing';
import { createTestDatabase, freePort, startOtlpReceiver, startServiceProcess, testBusNamespace, TEST_NATS_URL, type OtlpReceiver, type PlatformProcess } from '@tessera/testing';

export const SERVICES: readonly ServiceName[] = ['crm', 'ingestion', 'segmentation', 'journeys', 'messaging', 'analytics'];

/** The default workspace's admin key (scope `*`) and the default tracking source's write key. */
export const ADMIN_KEY = 'tsk_e2e_platform_admin_0123456789abcdefgh';
export const WRITE_KEY = 'twk_e2e_platform_write_0123456789';

/** Vendor accounts of the local fakes; messaging's providers are configured with them. */
export const TWILIO = { accountSid: 'AC0e2e0123456789abcdef0123456789ab', authToken: 'twilio-e2e-auth-token', from: '+15005550006' };
export const WHATSAPP = { phoneNumberId: '106540352242922', accessToken: 'EAAG-e2e-whatsapp-token' };
export const SMTP_FROM = 'hello@shop.tessera.test';

/** Signing secrets of the webhook sources `webhookSource` creates (Twilio signs with its auth token). */
export const WEBHOOK_SECRETS = { stripe: 'whsec_e2e_stripe_secret', shopify: 'shpss_e2e_shopify_secret', whatsapp: 'meta_e2e_app_secret', twilio: TWILIO.authToken } as const;
export type WebhookProvider = keyof typeof WEBHOOK_SECRETS;

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ApiOptions {
  /** Bearer key; the admin key by default, `null` for none. */
  key?: string | null;
  headers?: Record<string, string>;
}

export interface PlatformOptions {
  /** Names the bus namespace (and so the streams) of this run. */
  label?: string;
  /** Which services to start (all six by default). */
  services?: readonly ServiceName[];
  /** Extra environment: for every service, and per service (wins). */
  env?: Record<string, string>;
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Register the SMTP sink, the Twilio fake and the WhatsApp fake as messaging's default providers (true). */
  providers?: boolean;
}

export interface Platform {
  readonly adminKey: string;
  readonly writeKey: string;
  readonly namespace: string;
  readonly databaseUrl: string;
  readonly otlp: OtlpReceiver;
  readonly smtp: SmtpSink;
  readonly twilio: FakeHttpVendor;
  readonly whatsapp: FakeHttpVendor;
  /** Base URL of a service (stable across restarts). */
  url(service: ServiceName): string;
  /** The running process of a service (replaced by `startService`). */
  process(service: ServiceName): PlatformProcess;
  /** A JSON call on a service's public API; the body is parsed when it is JSON, else the text. */
  api<T = any>(service: ServiceName, method: string, path: string, body?: unknown, options?: ApiOptions): Promise<ApiResponse<T>>;
  /** SQL on the platform's database, for final proofs only (schema-qualify: `crm.contact`). */
  sql<R extends pg.QueryResultRow = any>(text: string, params?: unknown[]): Promise<R[]>;
  /** A webhook source of ingestion for this provider (created once), signed with WEBHOOK_SECRETS[provider]. */
  webhookSource(provider: WebhookProvider, settings?: Record<string, unknown>): Promise<{ id: string; url: string; secret: string }>;
  /** Polls `probe` until it returns something other than undefined/false/null. */
  eventually<T>(probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs?: number): Promise<T>;
  stopService(service: ServiceName, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped service again on its port, with its environment; resolves when ready. */
  startService(service: ServiceName): Promise<PlatformProcess>;
  /** Everything a service wrote, over all its runs. */
  logs(service: ServiceName): string;
  close(): Promise<void>;
}

export async function eventually<T>(probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      lastError = error; // e.g. a service restarting: keep polling
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const names = options.services ?? SERVICES;
  const ns = testBusNamespace(options.label ?? 'e2e');
  const [db, otlp, smtp, twilio, whatsapp] = await Promise.all([createTestDatabase(), startOtlpReceiver(), new SmtpSink().start(), startFakeTwilio(TWILIO), startFakeWhatsApp(WHATSAPP)]);
  const ports = Object.fromEntries(await Promise.all(names.map(async (s) => [s, await freePort()] as const))) as Record<ServiceName, number>;
  const urlOf = (service: ServiceName): string => {
    if (!ports[service]) throw new Error(`${service} is not part of this platform`);
    return `http://127.0.0.1:${ports[service]}`;
  };
  const common: Record<string, string> = {
    DATABASE_URL: db.url,
    NATS_URL: TEST_NATS_URL,
    BUS_NAMESPACE: ns.namespace,
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
    TESSERA_ADMIN_KEY: ADMIN_KEY,
    TESSERA_WRITE_KEY: WRITE_KEY,
    // The database is a copy of the migrated template (what `npm start`'s migrate step leaves).
    MIGRATE_ON_START: 'false',
    LOG_LEVEL: 'info',
    // Fewer Postgres connections than production defaults: the server is shared with other runs.
    JOURNEYS_DB_POOL_SIZE: '4',
    CRM_UNSUBSCRIBE_SECRET: 'e2e-unsubscribe-secret-0123456789abcdef',
    MESSAGING_TRACKING_SECRET: 'e2e-tracking-secret-0123456789abcdefghij',
    ...(ports.messaging ? { MESSAGING_PUBLIC_URL: urlOf('messaging') } : {}),
    ...options.env,
  };
  const envOf = (service: ServiceName): Record<string, string> => ({ ...common, ...options.serviceEnv?.[service], PORT: String(ports[service]) });

  const running = new Map<ServiceName, PlatformProcess>();
  const pastLogs = new Map<ServiceName, string>();
  const startService = async (service: ServiceName): Promise<PlatformProcess> => {
    if (running.has(service)) throw new Error(`${service} is already running`);
    for (let attempt = 1; ; attempt++) {
      try {
        const proc = await startServiceProcess(service, envOf(service), 90_000);
        running.set(service, proc);
        return proc;
      } catch (error) {
        // The Postgres server is shared with other test runs: a start that found every connection
        // slot taken, or waited too long for one, is retried, as a supervisor would restart it.
        // Any other failure is the test's.
        if (attempt >= 4 || !/too many clients|Unable to start a transaction in the given time/.test(String(error))) throw error;
        await new Promise((r) => setTimeout(r, 2000 * attempt));
      }
    }
  };
  const stopService = async (service: ServiceName, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const proc = running.get(service);
    if (!proc) return;
    await proc.stop(signal);
    running.delete(service);
    pastLogs.set(service, (pastLogs.get(service) ?? '') + proc.output());
  };

  const pool = new pg.Pool({ connectionString: db.url, max: 3, application_name: 'tessera-e2e' });
  const sources = new Map<WebhookProvider, { id: string; url: string; secret: string }>();
  const close = async (): Promise<void> => {
    await Promise.allSettled(names.map((s) => stopService(s)));
    await Promise.allSettled([pool.end(), otlp.close(), smtp.close(), twilio.close(), whatsapp.close()]);
    await db.drop();
    await ns.cleanup();
  };

  const api = async (service: ServiceName, method: string, path: string, body?: unknown, opts: ApiOptions = {}): Promise<ApiResponse> => {
    const key = opts.key === undefined ? ADMIN_KEY : opts.key;
    const response = await fetch(`${urlOf(service)}${path}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      redirect: 'manual',
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed, headers: response.headers };
  };

  try {
    // The CRM first: it seeds the workspace and verifies every other service's keys.
    if (names.includes('crm')) await startService('crm');
    await Promise.all(names.filter((s) => s !== 'crm').map(startService));
    if (options.providers !== false && ports.messaging) {
      const providers = [
        { name: 'smtp sink', channel: 'email', providerId: 'smtp', isDefault: true, options: { host: '127.0.0.1', port: smtp.port, requireTls: false, from: SMTP_FROM } },
        { name: 'twilio', channel: 'sms', providerId: 'twilio', isDefault: true, options: { baseUrl: twilio.url, ...TWILIO } },
        { name: 'whatsapp', channel: 'whatsapp', providerId: 'whatsapp_cloud', isDefault: true, options: { baseUrl: whatsapp.url, ...WHATSAPP } },
      ];
      for (const provider of providers) {
        const created = await api('messaging', 'POST', '/v1/providers', provider);
        if (created.status !== 201) throw new Error(`messaging refused provider ${provider.name}: ${created.status} ${JSON.stringify(created.body)}`);
      }
    }
  } catch (error) {
    const tails = [...running.values()].map((p) => `--- ${p.service}\n${p.output().slice(-2000)}`).join('\n');
    await close();
    throw new Error(`${String(error)}\n${tails}`);
  }

  return {
    adminKey: ADMIN_KEY,
    writeKey: WRITE_KEY,
    namespace: ns.namespace,
    databaseUrl: db.url,
    otlp,
    smtp,
    twilio,
    whatsapp,
    url: urlOf,
    process: (service) => {
      const proc = running.get(service);
      if (!proc) throw new Error(`${service} is not running`);
      return proc;
    },
    api,
    sql: async (text, params) => (await pool.query(text, params)).rows,
    webhookSource: async (provider, settings) => {
      const known = sources.get(provider);
      if (known) return known;
      const created = await api('ingestion', 'POST', '/v1/sources', { name: `${provider} ${randomUUID().slice(0, 8)}`, kind: 'webhook', provider, signingSecret: WEBHOOK_SECRETS[provider], settings: settings ?? (provider === 'whatsapp' ? { verifyToken: 'e2e-verify' } : {}) });
      if (created.status !== 201) throw new Error(`ingestion refused the ${provider} source: ${created.status} ${JSON.stringify(created.body)}`);
      const source = { id: created.body.id as string, url: `${urlOf('ingestion')}/v1/webhooks/${provider}/${created.body.id}`, secret: WEBHOOK_SECRETS[provider] };
      sources.set(provider, source);
      return source;
    },
    eventually,
    stopService,
    startService,
    logs: (service) => (pastLogs.get(service) ?? '') + (running.get(service)?.output() ?? ''),
    close,
  };
}
