import { randomUUID } from 'node:crypto';

// A steady stream of tracking events, sent as the Segment SDKs send them: a refused or failed
// request is retried with the same messageId until it is accepted (200), so an event counts as
// accepted only once ingestion said so.

export interface AcceptedEvent {
  probeId: string;
  userId: string;
  /** The fault window the event was first sent in, to say which fault lost it. */
  phase: string;
  attempts: number;
}

export class SteadyLoad {
  readonly accepted = new Map<string, AcceptedEvent>();
  /** Events still being retried, or given up on (never accepted: not counted as accepted). */
  readonly pending = new Set<string>();
  readonly gaveUp: string[] = [];
  /** Events ingestion refused as bad input: a bug in the load or in ingestion. */
  readonly refused: string[] = [];
  phase = 'warm-up';
  private timer?: NodeJS.Timeout;
  private aborted = false;
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly ingestionUrl: string,
    private readonly writeKey: string,
    private readonly userIds: string[],
    private readonly event = 'Fault Probe',
  ) {}

  /** Sends `perSecond` events per second until stop(). */
  start(perSecond: number): void {
    clearInterval(this.timer);
    this.aborted = false;
    let n = 0;
    this.timer = setInterval(() => {
      const promise: Promise<void> = this.sendOne(this.userIds[n++ % this.userIds.length]!).then(
        () => undefined,
        () => undefined,
      ).finally(() => this.inflight.delete(promise));
      this.inflight.add(promise);
    }, 1000 / perSecond);
  }

  /** Stops sending new events and waits until every started one is accepted (or given up). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.inflight]);
  }

  /** Teardown: stops at once, retries included. */
  async abort(): Promise<void> {
    this.aborted = true;
    await this.stop();
  }

  /** Sends one event, retrying until accepted; resolves with its probe id. */
  async sendOne(userId: string, retryForMs = 90_000): Promise<string> {
    const probeId = randomUUID();
    const phase = this.phase;
    this.pending.add(probeId);
    const deadline = Date.now() + retryForMs;
    for (let attempt = 1; ; attempt++) {
      const status = await fetch(`${this.ingestionUrl}/v1/track`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${this.writeKey}:`).toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ userId, event: this.event, messageId: probeId, properties: { probeId } }),
        signal: AbortSignal.timeout(10_000),
      }).then(
        async (r) => {
          await r.arrayBuffer();
          return r.status;
        },
        () => 0,
      );
      if (status === 200) {
        this.pending.delete(probeId);
        this.accepted.set(probeId, { probeId, userId, phase, attempts: attempt });
        return probeId;
      }
      if (status >= 400 && status < 500 && status !== 429) {
        this.pending.delete(probeId);
        this.refused.push(`${probeId}: ${status}`);
        return probeId;
      }
      if (Date.now() > deadline || this.aborted) {
        this.pending.delete(probeId);
        this.gaveUp.push(probeId);
        return probeId;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
