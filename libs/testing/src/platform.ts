import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { ServiceName } from '@tessera/contracts';

const ROOT = resolve(__dirname, '../../..');

export interface PlatformProcess {
  service: ServiceName;
  url: string;
  /** The process id (for fault tests that need more than `stop`). */
  pid: number;
  /** Everything the process wrote, for assertions on logs and for failure messages. */
  output: () => string;
  /** Sends `signal` (SIGTERM by default: a graceful stop; SIGKILL: a crash) and waits for the exit. */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}

/**
 * Starts a built service the way `npm start` does (`node apps/<svc>/dist/main.js`) and waits until
 * /health/ready answers 200. Used by end-to-end tests that drive the platform over its public APIs.
 * It listens on `env.PORT` when given (so a restarted service keeps its URL), else on a free port.
 */
export async function startServiceProcess(service: ServiceName, env: Record<string, string>, readyTimeoutMs = 60_000): Promise<PlatformProcess> {
  const port = env['PORT'] ? Number(env['PORT']) : await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--enable-source-maps', join(ROOT, 'apps', service, 'dist', 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  const exited = once(child, 'exit');
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${service} exited with ${child.exitCode} before it was ready:\n${output.slice(-4000)}`);
    const ready = await fetch(`${url}/health/ready`).then((r) => r.status === 200, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${service} was not ready within ${readyTimeoutMs} ms:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    service,
    url,
    pid: child.pid!,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
