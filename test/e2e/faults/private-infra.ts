import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@tessera/testing';
import { waitUntil } from './harness';

// A NATS server and a Postgres cluster of the fault tests' own, so restarting them disturbs no
// other test or helper using the machine's shared ones.

const NATS_SERVER = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = netConnect({ port, host: '127.0.0.1' }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

export interface PrivateNats {
  url: string;
  restart: () => Promise<void>;
  stop: () => Promise<void>;
}

export async function startPrivateNats(): Promise<PrivateNats> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'tessera-faults-nats-'));
  let child: ChildProcess | undefined;
  let output = '';
  const start = async (): Promise<void> => {
    child = spawn(NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (c) => (output += c));
    child.stderr?.on('data', (c) => (output += c));
    await waitUntil(async () => (child?.exitCode === null ? portOpen(port) : Promise.reject(new Error(`nats-server exited: ${output}`))), 'nats-server to listen', 20_000);
  };
  const stop = async (): Promise<void> => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    restart: async () => {
      await stop();
      await start();
    },
    stop: async () => {
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

export interface PrivatePostgres {
  /** DATABASE_URL of the `tessera` database on this cluster. */
  url: string;
  /** `immediate` is a crash (no checkpoint; recovery on start), `fast` a clean stop. */
  restart: (mode?: 'immediate' | 'fast') => Promise<void>;
  stop: () => Promise<void>;
}

/** initdb refuses to run as root: run the cluster as the `postgres` user when we are root. */
function pgCommand(binary: string, args: string[]): [string, string[]] {
  const path = join(PG_BIN, binary);
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
}

function run(binary: string, args: string[]): void {
  const [command, argv] = pgCommand(binary, args);
  const result = spawnSync(command, argv, { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`${binary} ${args.join(' ')} failed (${result.status}): ${result.stdout}\n${result.stderr}`);
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-faults-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const { uid, gid } = userIds('postgres');
    chownSync(dir, uid, gid);
  }
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  // fsync off: a throwaway cluster; the machine does not crash here, only the server process does.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  const start = async (): Promise<void> => {
    run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  };
  await start();
  run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'tessera']);
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/tessera`,
    restart: async (mode = 'immediate') => {
      run('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
      await start();
    },
    stop: async () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function userIds(name: string): { uid: number; gid: number } {
  const out = spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim();
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim();
  return { uid: Number(out), gid: Number(gid) };
}
