import { asProviderError, type ProviderError } from './errors';
import type { ChannelMessages, ProviderChannel, SendResult } from './ports';
import type { ChannelProvider } from './provider';

export interface RetryPolicy {
  /** Tries in all, first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 200, maxDelayMs: 2000 };

export type SendOutcome = { ok: true; result: SendResult; attempts: number } | { ok: false; error: ProviderError; attempts: number };

/**
 * Sends with exponential backoff (full jitter) on transient errors; a permanent error stops at
 * once. Retries stay short on purpose: a long outage is the fallback provider's job, then the bus's.
 */
export async function sendWithRetry<C extends ProviderChannel>(provider: ChannelProvider<C>, message: ChannelMessages[C], policy: RetryPolicy = DEFAULT_RETRY): Promise<SendOutcome> {
  let attempt = 0;
  for (;;) {
    attempt++;
    try {
      return { ok: true, result: await provider.send(message), attempts: attempt };
    } catch (thrown) {
      const error = asProviderError(thrown);
      if (!error.retryable || attempt >= policy.attempts) return { ok: false, error, attempts: attempt };
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)));
    }
  }
}

/** A token bucket: `rate` tokens a second, bursts up to `burst`. `take` waits for a token. */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();

  constructor(
    private readonly rate: number,
    private readonly burst: number = Math.max(1, rate),
  ) {
    this.tokens = this.burst;
  }

  /** Takes a token if one is there; otherwise returns how many ms until one is. */
  tryTake(): number {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  async take(): Promise<void> {
    for (let wait = this.tryTake(); wait > 0; wait = this.tryTake()) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
