// Helpers shared by the tessera.mjs commands: logging, child processes, TCP probes, timings, cleanup.
// Node built-ins only: this runs before `pnpm install`.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const STATE_DIR = join(ROOT, '.tessera');
export const LOG_DIR = join(STATE_DIR, 'logs');

export const log = (msg) => console.log(`[tessera] ${msg}`);
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const isRoot = () => process.getuid?.() === 0;

export function ensureDir(dir) {
  mkdirSync(dir, { recursive: true });
  return dir;
}

// Runs a command to completion and resolves with its exit code. Throws on a non-zero code unless
// allowFail; with quiet, output is captured and only shown when the command fails.
export function run(cmd, args, { env = {}, cwd = ROOT, quiet = false, allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    const stdio = quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit';
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio });
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.on('error', (err) => reject(new Error(`${cmd}: ${err.message}`)));
    child.on('close', (code, signal) => {
      const status = code ?? 128 + (os.constants.signals[signal] ?? 0);
      if (status === 0 || allowFail) return resolve(status);
      if (quiet) process.stderr.write(output);
      reject(new Error(`\`${[cmd, ...args].join(' ')}\` failed (exit ${status})`));
    });
  });
}

// The trimmed stdout of a quick command, or null when it cannot run or fails.
export function commandOutput(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return result.status === 0 ? result.stdout.trim() : null;
}

// The first executable named `name` in PATH (plus extra dirs), or null.
export function findExecutable(name, extraDirs = []) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs];
  for (const dir of dirs.filter(Boolean)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return null;
}

// True when something accepts a TCP connection on host:port within timeoutMs.
export function canConnect(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

// Polls check() until it returns true or timeoutMs passes; resolves with the last result.
export async function waitUntil(check, timeoutMs, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(intervalMs);
  }
  return false;
}

export const isLocalHost = (host) => ['localhost', '::1', '[::1]'].includes(host) || host.startsWith('127.');

// Host and port of a postgresql:// or nats:// URL; WHATWG URL keeps IPv6 brackets, which net does not want.
export function hostPort(url, defaultPort) {
  return { host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(url.port || defaultPort) };
}

// Wall time per phase, printed at the end so the cold and warm costs are visible.
const timings = [];
export async function timed(name, fn) {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    timings.push(`${name} ${((performance.now() - started) / 1000).toFixed(1)}s`);
  }
}
export function printTimings() {
  if (timings.length) log(`timings: ${timings.splice(0).join(', ')}`);
}

// Things to undo on exit (servers this script started), run last-registered first.
const cleanups = [];
export const onCleanup = (fn) => cleanups.push(fn);
export async function cleanup() {
  while (cleanups.length) {
    try {
      await cleanups.pop()();
    } catch (err) {
      log(`cleanup: ${err.message}`);
    }
  }
}
