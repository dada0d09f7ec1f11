import { AckPolicy, DeliverPolicy, headers as natsHeaders, nanos, type ConsumerConfig, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from 'nats';
import { deadLetterSubject, eventDefinition, HEADERS, type EventEnvelope } from '@tessera/contracts';
import { busHandlerDuration, busMessages, SpanKind, withSpanFromCarrier, type Logger } from '@tessera/observability';
import { envelopeProblem } from '../envelope';
import { PermanentError } from '../errors';
import { headersToObject } from './headers';
import { checkPayload } from '../payload-check';
import type { BusNaming } from './naming';

export interface RawDelivered {
  data: object;
  envelope: EventEnvelope<object>;
  attempt: number;
}

export interface ConsumerSpec {
  js: JetStreamClient;
  jsm: JetStreamManager;
  naming: BusNaming;
  service: string;
  logger: Logger;
  subject: string;
  /** Receives one event, or up to `batch.maxSize` events in stream order when `batch` is set. */
  handler: (events: RawDelivered[]) => Promise<void>;
  batch?: { maxSize: number; maxWaitMs: number };
  /**
   * Handlers in flight at once. In batch mode it defaults to 1 (one batch at a time, in stream
   * order); more lets the handler's I/O of one batch overlap the next, for handlers whose effects
   * commute (their order across batches must not matter) or, with `ordered`, over different keys.
   */
  concurrency?: number;
  /**
   * Events with the same partition key are handled in stream order, one after another, for
   * consumers that need per-entity order. In batch mode with `concurrency` above 1, batches then
   * run side by side only over different keys (see the lanes in startConsumer).
   */
  ordered?: boolean;
  /** Deliveries before an event is dead-lettered. */
  maxAttempts?: number;
  backoffMs?: (attempt: number) => number;
  ackWaitMs?: number;
}

export interface ConsumerHandle {
  stop(): Promise<void>;
}

const decoder = new TextDecoder();
/**
 * The longest the loop decodes and dispatches messages before it lets the event loop run. nats.js
 * hands over a backlog as a chain of microtasks that never reaches the poll phase: without a pause
 * the handler's own socket writes (a COPY, a query, the acks) wait until the whole backlog pulled
 * so far is decoded. Measured on analytics' 10,000-event batches (bench/analytics): the COPY took
 * 300-345 ms per batch with no pause, 160-190 ms with a pause every 2 ms (pauses every 5 ms, or
 * every 128 messages, did less).
 */
const YIELD_AFTER_MS = 2;
const defaultBackoff = (attempt: number): number => Math.min(250 * 2 ** (attempt - 1), 60_000);

/** FNV-1a of a partition key: which lane of an ordered batched consumer its events take. */
function keyHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * One durable pull consumer. Delivery is decided here and nowhere else: validate before the handler,
 * ack after success, retry with backoff on failure, and dead-letter (with the reason) an event that
 * can never be valid or has used up its attempts. Nothing is dropped silently.
 */
export async function startConsumer(spec: ConsumerSpec): Promise<ConsumerHandle> {
  const maxAttempts = spec.maxAttempts ?? 8;
  const batchesInFlight = spec.batch ? Math.max(1, spec.concurrency ?? 1) : 1;
  const backoff = spec.backoffMs ?? defaultBackoff;
  const stream = spec.naming.stream(spec.naming.streamOf(spec.subject).name);
  const durable = spec.naming.durable(spec.service, spec.subject);
  const definition = eventDefinition(spec.subject);
  if (!definition) throw new Error(`Unknown event subject ${spec.subject}`);
  const log = spec.logger.child({ consumer: durable });

  const config: Partial<ConsumerConfig> = {
    durable_name: durable,
    filter_subject: spec.naming.subject(spec.subject),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    // We dead-letter at maxAttempts ourselves; the server's limit is only a backstop.
    max_deliver: maxAttempts + 2,
    ack_wait: nanos(spec.ackWaitMs ?? 30_000),
    // Room for the batches in the handler plus the next one being decoded meanwhile, and no more:
    // every unacknowledged message is held in memory, pulled but not yet handled.
    max_ack_pending: Math.max(10_000, (spec.batch?.maxSize ?? 0) * (batchesInFlight + 1)),
  };
  // A busy server can let a JetStream API request time out at start-up: try again before giving up.
  for (let attempt = 1; ; attempt++) {
    try {
      await spec.jsm.consumers.add(stream, config).catch(async (error: unknown) => {
        if (!/already (exists|in use)/i.test(String(error))) throw error;
        await spec.jsm.consumers.update(stream, durable, config);
      });
      break;
    } catch (error) {
      if (attempt >= 5 || (error as { code?: string })?.code !== 'TIMEOUT') throw error;
      log.warn({ attempt }, 'creating the durable consumer timed out; retrying');
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }

  const deadLetter = async (msg: JsMsg, reason: string): Promise<void> => {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(headersToObject(msg.headers))) if (k !== HEADERS.msgId) h.set(k, v);
    h.set(HEADERS.dlqReason, reason.slice(0, 1000));
    h.set(HEADERS.dlqConsumer, durable);
    h.set(HEADERS.dlqDeliveries, String(msg.info.deliveryCount));
    await spec.js.publish(spec.naming.subject(deadLetterSubject(durable, spec.subject)), msg.data, { headers: h, msgID: `${durable}:${msg.info.streamSequence}` });
    msg.term();
    busMessages.inc({ subject: spec.subject, outcome: 'dead_letter' });
    log.error({ reason, deliveries: msg.info.deliveryCount, seq: msg.info.streamSequence }, 'event dead-lettered');
  };

  const fail = async (msg: JsMsg, error: unknown): Promise<void> => {
    const attempt = msg.info.deliveryCount;
    const reason = (error as Error)?.message ?? String(error);
    if (error instanceof PermanentError || attempt >= maxAttempts) {
      // If even the dead-letter publish fails, leave the event for redelivery rather than lose it.
      await deadLetter(msg, error instanceof PermanentError ? reason : `gave up after ${attempt} attempts: ${reason}`).catch((e) => {
        log.error({ err: e }, 'dead-letter publish failed; will redeliver');
        msg.nak(backoff(attempt));
      });
      return;
    }
    log.warn({ err: error, attempt, seq: msg.info.streamSequence }, 'handler failed; will retry');
    msg.nak(backoff(attempt));
    busMessages.inc({ subject: spec.subject, outcome: 'retry' });
  };

  /** Decodes and validates without awaiting anything; a string is why the event can never be valid. */
  const decode = (msg: JsMsg): RawDelivered | string => {
    let envelope: unknown;
    try {
      envelope = JSON.parse(decoder.decode(msg.data));
    } catch {
      return 'message is not valid JSON';
    }
    const problem = envelopeProblem(envelope);
    if (problem) return problem;
    const checked = checkPayload(definition.payload, (envelope as EventEnvelope).data);
    if (!checked.ok) return `invalid payload: ${checked.errors.map((e) => `${e.path}: ${e.messages.join(', ')}`).join('; ')}`;
    return {
      data: checked.value,
      envelope: envelope as EventEnvelope<object>,
      // Read on demand: parsing the delivery info costs more than most handlers ever need it.
      get attempt(): number {
        return msg.info.deliveryCount;
      },
    };
  };

  /**
   * Acks of one turn of the event loop leave together. nats.js writes to the socket once per
   * microtask checkpoint, so handlers finishing one after another cost a socket write (a syscall)
   * per ack: in bench/bus, 1.06 writes and ~240 µs of CPU per event for a single-event consumer,
   * against 0.07 writes and ~140 µs with this. An ack sent a turn later still follows success.
   */
  let acks: JsMsg[] = [];
  const flushAcks = (): void => {
    const due = acks;
    acks = [];
    try {
      for (const msg of due) msg.ack();
    } catch (error) {
      // Only a closed connection refuses an ack; unacknowledged, the events are redelivered.
      log.warn({ err: error, events: due.length }, 'acks not sent; the events will be redelivered');
    }
  };
  const ack = (msg: JsMsg): void => {
    if (!acks.length) setImmediate(flushAcks);
    acks.push(msg);
  };

  // Per-message constants, made once: the metrics' label lookups and the span's name.
  const spanName = `${spec.subject} process`;
  const handlerDuration = busHandlerDuration.labels({ subject: spec.subject });
  const acked = busMessages.labels({ subject: spec.subject, outcome: 'ack' });
  const invoke = async (msgs: JsMsg[], events: RawDelivered[]): Promise<void> => {
    const timer = handlerDuration.startTimer();
    const attributes = { 'messaging.system': 'nats', 'messaging.destination.name': spec.subject, 'messaging.batch.message_count': events.length };
    try {
      await withSpanFromCarrier(spanName, SpanKind.CONSUMER, headersToObject(msgs[0]!.headers), attributes, () => spec.handler(events));
    } finally {
      timer();
    }
    for (const msg of msgs) ack(msg);
    acked.inc(msgs.length);
  };

  /** Runs a batch; if it fails, retries its events one by one so one bad event cannot hold back the rest. */
  const runBatch = async (items: { msg: JsMsg; event: RawDelivered }[]): Promise<void> => {
    try {
      await invoke(items.map((i) => i.msg), items.map((i) => i.event));
    } catch (error) {
      if (items.length === 1) return fail(items[0]!.msg, error);
      for (const item of items) await invoke([item.msg], [item.event]).catch((e) => fail(item.msg, e));
    }
  };

  let stopped = false;
  let messages: ConsumerMessages | undefined;
  const inFlight = new Set<Promise<void>>();
  const concurrency = spec.batch ? batchesInFlight : (spec.concurrency ?? 16);
  const keyChains = new Map<string, Promise<void>>();

  /** Wakes the loop when it waits for a free slot (only the loop waits, so one waiter at most). */
  let slotFreed: (() => void) | undefined;
  const track = (work: Promise<void>): Promise<void> => {
    const p = work
      .catch((e) => log.error({ err: e }, 'consumer work failed'))
      .finally(() => {
        inFlight.delete(p);
        slotFreed?.();
      });
    inFlight.add(p);
    return p;
  };

  /** Starts one event's handler; returns a promise only when the loop must wait (dead letter, every slot busy). */
  const dispatchSingle = (msg: JsMsg): Promise<void> | undefined => {
    const event = decode(msg);
    if (typeof event === 'string') return deadLetter(msg, event);
    const run = (): Promise<void> => runBatch([{ msg, event }]);
    const key = spec.ordered ? event.envelope.partitionKey : undefined;
    if (!key) void track(run());
    else {
      const chained = (keyChains.get(key) ?? Promise.resolve()).then(run);
      keyChains.set(key, chained);
      void track(chained.finally(() => keyChains.get(key) === chained && keyChains.delete(key)));
    }
    return inFlight.size >= concurrency ? slotFree() : undefined;
  };
  // A waiter per freed slot, not Promise.race over every handler in flight per message.
  const slotFree = async (): Promise<void> => {
    while (inFlight.size >= concurrency) await new Promise<void>((resolve) => (slotFreed = resolve));
    slotFreed = undefined;
  };

  /**
   * Batched events wait in a lane's buffer. One lane, by default, running up to `batchesInFlight`
   * batches; for an `ordered` consumer, `batchesInFlight` lanes running one batch each, with every
   * partition key in one lane (by hash), so one key's events are handled in stream order while
   * other keys' batches run beside them.
   */
  interface Lane {
    buffer: { msg: JsMsg; event: RawDelivered }[];
    running: Set<Promise<void>>;
  }
  const lanes: Lane[] = Array.from({ length: spec.ordered ? batchesInFlight : 1 }, () => ({ buffer: [], running: new Set() }));
  const batchesPerLane = spec.ordered ? 1 : batchesInFlight;
  const laneOf = (event: RawDelivered): Lane => (lanes.length === 1 ? lanes[0]! : lanes[keyHash(event.envelope.partitionKey ?? event.envelope.id) % lanes.length]!);
  let flushTimer: NodeJS.Timeout | undefined;
  const startBatch = (lane: Lane): void => {
    const items = lane.buffer.splice(0, spec.batch!.maxSize);
    const p: Promise<void> = track(runBatch(items)).finally(() => {
      lane.running.delete(p);
      pump();
    });
    lane.running.add(p);
  };
  /**
   * Starts the next batch of each idle lane. A batch is cut when it starts, not when it was
   * scheduled, so while a slow batch runs the next one grows to take everything that arrived
   * meanwhile (up to maxSize) instead of queueing many small ones behind it; and decoding and
   * validating the next batch overlaps with the handler's writes of this one. With more than one
   * batch allowed in a lane, the extra slots take only full batches, so batches stay large.
   */
  const pump = (): void => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    for (const lane of lanes) {
      if (!lane.buffer.length) continue;
      if (!lane.running.size) startBatch(lane);
      while (lane.running.size < batchesPerLane && lane.buffer.length >= spec.batch!.maxSize) startBatch(lane);
    }
  };
  const runningBatches = (): Promise<void>[] => lanes.flatMap((lane) => [...lane.running]);
  /** Runs batches until nothing is buffered or running (on stop). */
  const drain = async (): Promise<void> => {
    pump();
    while (runningBatches().length) await Promise.all(runningBatches());
  };
  /** Buffers one message; returns a promise only when the loop must wait (dead letter, backpressure). */
  const dispatchBatched = (msg: JsMsg): Promise<void> | undefined => {
    const event = decode(msg);
    if (typeof event === 'string') return deadLetter(msg, event);
    const lane = laneOf(event);
    lane.buffer.push({ msg, event });
    if (lane.buffer.length < spec.batch!.maxSize) {
      if (!lane.running.size) flushTimer ??= setTimeout(pump, spec.batch!.maxWaitMs);
      return undefined;
    }
    pump();
    return backpressure(lane);
  };
  // Hold further messages while a full batch waits behind the lane's running ones.
  const backpressure = async (lane: Lane): Promise<void> => {
    while (lane.running.size >= batchesPerLane && lane.buffer.length >= spec.batch!.maxSize) await Promise.race(lane.running);
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        const consumer = await spec.js.consumers.get(stream, durable);
        messages = await consumer.consume({ max_messages: spec.batch ? spec.batch.maxSize * (batchesInFlight + 1) : concurrency * 4 });
        let turnStarted = performance.now();
        for await (const msg of messages) {
          const wait = spec.batch ? dispatchBatched(msg) : dispatchSingle(msg);
          if (wait) await wait;
          if (performance.now() - turnStarted >= YIELD_AFTER_MS) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            turnStarted = performance.now();
          }
        }
      } catch (error) {
        if (stopped) break;
        log.error({ err: error }, 'consumer loop failed; restarting in 1s');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  const looping = loop();

  return {
    stop: async () => {
      stopped = true;
      messages?.stop();
      await looping.catch(() => undefined);
      if (spec.batch) await drain();
      await Promise.allSettled([...inFlight]);
      flushAcks();
    },
  };
}
