// Small measuring helpers the benchmarks share.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The p-th percentile of `xs` (unsorted; NaN when empty). */
export const pct = (xs, p) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN);

/** CPU time (ms) of a process from /proc (utime + stime, in clock ticks of 10 ms); 0 once it ended. Linux only. */
export const cpuOf = (pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
};

/**
 * CPU seconds the whole machine has been busy so far, summed over its cores (/proc/stat: user, nice,
 * system, irq and softirq; not idle, iowait or steal). Between two readings it tells how much of
 * the machine a window used, whoever used it, kernel work outside any process included. Linux only.
 */
export function machineBusySeconds() {
  const [user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq) / 100; // USER_HZ
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort() {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address();
  s.close();
  return port;
}

/**
 * A UUID v7, as the bus stamps on every envelope (libs/contracts/src/envelope.ts): its time prefix
 * makes ids of one moment neighbours in an index, so a benchmark using random v4 ids instead would
 * measure scattered index inserts that the platform never does.
 */
export function uuidv7(ms = Date.now()) {
  const b = randomBytes(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
