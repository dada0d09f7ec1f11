// Small measuring helpers the benchmarks share.
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

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort() {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address();
  s.close();
  return port;
}
