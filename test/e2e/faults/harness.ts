import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { SERVICES, type ServiceName } from '@tessera/contracts';
import { freePort } from '@tessera/testing';

// The six services as processes on fixed ports, each one killable and restartable on the same port
// (clients keep their URLs), with everything every run of a process printed kept for log scans.

const ROOT = resolve(__dirname, '../../..');

export const ALL_SERVICES: readonly ServiceName[] = SERVICES;

export interface ManagedService {
  service: ServiceName;
  url: string;
  /** Everything every run of this service printed. */
  output: () => string;
  running: () => boolean;
  /** Starts the process (again) and waits until /health/ready answers 200. */
  start: () => Promise<void>;
  /** SIGKILL (a crash) or SIGTERM (a graceful stop); resolves once the process is gone. */
  kill: (signal?: NodeJS.Signals) => Promise<void>;
  /** Polls /health/ready until it answers 200. */
  waitReady: (timeoutMs?: number) => Promise<void>;
}

export interface PlatformOptions {
  databaseUrl: string;
  natsUrl: string;
  namespace: string;
  adminKey: string;
  writeKey: string;
  services?: readonly ServiceName[];
  env?: Record<string, string>;
}

export interface Platform {
  services: Record<ServiceName, ManagedService>;
  url: (service: ServiceName) => string;
  /** Output of every process of every service. */
  output: () => string;
  stop: () => Promise<void>;
}

export async function waitUntil<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function managedService(service: ServiceName, env: Record<string, string>): Promise<ManagedService> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();

  const waitReady = async (timeoutMs = 180_000): Promise<void> => {
    await waitUntil(
      async () => {
        if (!child || child.exitCode !== null || child.signalCode !== null) throw new Error(`${service} is not running:\n${output.slice(-3000)}`);
        return (await fetch(`${url}/health/ready`).then((r) => r.status === 200, () => false)) || undefined;
      },
      `${service} to be ready`,
      timeoutMs,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- ${service} output (tail) ---\n${output.slice(-3000)}`);
    });
  };

  const start = async (): Promise<void> => {
    child = spawn(process.execPath, ['--enable-source-maps', join(ROOT, 'apps', service, 'dist', 'main.js')], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    exited = once(child, 'exit');
    await waitReady();
  };

  return {
    service,
    url,
    output: () => output,
    running: () => !!child && child.exitCode === null && child.signalCode === null,
    start,
    waitReady,
    kill: async (signal = 'SIGKILL') => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Starts the chosen services (all six by default) against one database and one bus namespace. */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const env = {
    DATABASE_URL: options.databaseUrl,
    NATS_URL: options.natsUrl,
    BUS_NAMESPACE: options.namespace,
    TESSERA_ADMIN_KEY: options.adminKey,
    TESSERA_WRITE_KEY: options.writeKey,
    ...options.env,
  };
  const names = options.services ?? ALL_SERVICES;
  const list = await Promise.all(names.map((name) => managedService(name, env)));
  const services = Object.fromEntries(list.map((s) => [s.service, s])) as Record<ServiceName, ManagedService>;
  const stop = async (): Promise<void> => {
    await Promise.all(list.map((s) => s.kill('SIGTERM')));
  };
  try {
    // The CRM first: it creates the default workspace and answers key checks for the others.
    if (services.crm) await services.crm.start();
    await Promise.all(list.filter((s) => s.service !== 'crm').map((s) => s.start()));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    services,
    url: (service) => {
      const s = services[service];
      if (!s) throw new Error(`${service} was not started`);
      return s.url;
    },
    output: () => list.map((s) => s.output()).join('\n'),
    stop,
  };
}

/** A small JSON client for the management APIs. */
export function api(baseUrl: string, key?: string) {
  return async <T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T; text: string }> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T, text };
  };
}
