import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JsMsg } from 'nats';
import type { JetStreamBus } from '@tessera/bus';
import { EVENT_RECEIVED_V1 } from '@tessera/contracts';
import { ArchiveWriter } from './archive-writer.service';
import type { IngestRepository } from './ingest.repository';

const encoder = new TextEncoder();

/** A delivered stream message, as much of it as ArchiveWriter reads. */
function message(i: number): JsMsg {
  return { subject: EVENT_RECEIVED_V1.subject, seq: i, data: encoder.encode(JSON.stringify({ id: `e-${i}` })), info: { timestampNanos: Date.now() * 1e6 }, ack: vi.fn() } as unknown as JsMsg;
}

describe('ArchiveWriter batching', () => {
  /** Rows per archive statement, in order. */
  let statements: number[];
  let writer: ArchiveWriter;
  /** Hands a message to the writer as the consumer's callback does. */
  let deliver: (m: JsMsg) => void;

  beforeEach(() => {
    vi.useFakeTimers();
    statements = [];
    const repository = { archiveEnvelopes: async (document: string) => statements.push((JSON.parse(document) as unknown[]).length) } as unknown as IngestRepository;
    const bus = { naming: { subject: (s: string) => s } } as unknown as JetStreamBus;
    writer = new ArchiveWriter(bus, repository);
    // The consumer's callback is private: the message path is what is under test, not the consumer.
    deliver = (m) => (writer as unknown as { receive(m: JsMsg): void }).receive(m);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gathers a trickle of single events into one statement, acking each after it is written', async () => {
    const trickle = [message(1), message(2), message(3)];
    for (const m of trickle) {
      deliver(m);
      await vi.advanceTimersByTimeAsync(5);
    }
    expect(statements).toEqual([]);
    await vi.advanceTimersByTimeAsync(20);
    expect(statements).toEqual([3]);
    for (const m of trickle) expect(m.ack).toHaveBeenCalledOnce();
    expect(writer.lagMs()).toBe(0);
  });

  it('writes a full batch at once, without waiting', async () => {
    for (let i = 0; i < 2001; i++) deliver(message(i));
    // No timer advanced: the full batch ended the wait; the one left over waits for company.
    await vi.advanceTimersByTimeAsync(0);
    expect(statements).toEqual([2000]);
    await vi.advanceTimersByTimeAsync(20);
    expect(statements).toEqual([2000, 1]);
  });
});
