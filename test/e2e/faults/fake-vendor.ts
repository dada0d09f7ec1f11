import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A webhook vendor on localhost that behaves as a real receiver does: it honours Idempotency-Key
// (a repeat of a delivered key is answered again, not delivered again), and it can be made slow or
// made to fail, to script provider faults.

export interface FakeVendor {
  url: string;
  /** Delay before answering, and the status to answer with instead of 200 (null = healthy). */
  set: (mode: { delayMs?: number; failWith?: number | null }) => void;
  /** Probe id -> idempotency keys it was delivered under (more than one = sent twice). */
  delivered: () => Map<string, string[]>;
  /** Requests that repeated an already delivered key (absorbed by the key, as a vendor would). */
  repeats: () => number;
  /** Requests answered with a failure status. */
  refused: () => number;
  close: () => Promise<void>;
}

export async function startFakeVendor(): Promise<FakeVendor> {
  let delayMs = 0;
  let failWith: number | null = null;
  const byKey = new Map<string, string>();
  const byProbe = new Map<string, string[]>();
  let repeats = 0;
  let refused = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const answer = (): void => {
        if (failWith !== null) {
          refused++;
          res.writeHead(failWith, { 'content-type': 'application/json' }).end('{"error":"vendor unavailable"}');
          return;
        }
        const key = String(req.headers['idempotency-key'] ?? '');
        if (byKey.has(key)) repeats++;
        else {
          const body = JSON.parse(raw) as { payload?: unknown };
          const payload = (typeof body.payload === 'string' ? JSON.parse(body.payload) : body.payload) as { probeId?: string };
          const probe = String(payload?.probeId);
          byKey.set(key, probe);
          byProbe.set(probe, [...(byProbe.get(probe) ?? []), key]);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `vendor-${key}` }));
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    set: (mode) => {
      if (mode.delayMs !== undefined) delayMs = mode.delayMs;
      if (mode.failWith !== undefined) failWith = mode.failWith;
    },
    delivered: () => byProbe,
    repeats: () => repeats,
    refused: () => refused,
    close: async () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
