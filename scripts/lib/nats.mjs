// Makes NATS_URL answer: use the NATS that is there, or run nats-server with JetStream under .tessera.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { aptInstall } from './tools.mjs';
import { LOG_DIR, STATE_DIR, canConnect, ensureDir, findExecutable, hostPort, isLocalHost, log, onCleanup, sleep, waitUntil } from './util.mjs';

const findNatsServer = () => findExecutable('nats-server', ['/usr/sbin', '/usr/bin']);

export async function ensureNats(natsUrl) {
  // NATS_URL may list several servers; the first one decides.
  const { host, port } = hostPort(new URL(natsUrl.split(',')[0].trim()), 4222);
  if (await canConnect(host, port)) {
    log(`nats: using ${host}:${port}`);
    return;
  }
  if (!isLocalHost(host)) {
    throw new Error(`nats: nothing answers at ${host}:${port} (NATS_URL), and it is not local, so it cannot be started here`);
  }
  if (!findNatsServer()) await aptInstall(['nats-server'], 'nats');
  const bin = findNatsServer();
  if (!bin) throw new Error('nats: nats-server was installed but is not in PATH, /usr/sbin or /usr/bin');

  const dataDir = ensureDir(join(STATE_DIR, 'nats'));
  const logFile = join(ensureDir(LOG_DIR), 'nats.log');
  // Detached: a Ctrl-C in the terminal must not stop NATS before the services have shut down.
  const args = ['-a', host, '-p', String(port), '-js', '-sd', dataDir, '-l', logFile];
  const server = spawn(bin, args, { detached: true, stdio: 'ignore' });
  onCleanup(() => stopNats(server));
  const up = await waitUntil(async () => server.exitCode === null && (await canConnect(host, port, 500)), 15_000);
  if (!up) throw new Error(`nats: nats-server did not open ${host}:${port}; see ${logFile}`);
  log(`nats: started nats-server (pid ${server.pid}) on ${host}:${port} with JetStream in .tessera/nats`);
}

async function stopNats(server) {
  if (server.exitCode !== null || server.signalCode !== null) return;
  log(`nats: stopping nats-server (pid ${server.pid})`);
  const exited = once(server, 'exit');
  server.kill('SIGTERM');
  if ((await Promise.race([exited.then(() => true), sleep(5000)])) !== true) server.kill('SIGKILL');
}
