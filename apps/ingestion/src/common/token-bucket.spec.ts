import { describe, expect, it } from 'vitest';
import { KeyedRateLimiter } from './token-bucket';

describe('KeyedRateLimiter', () => {
  it('spends the burst, refills at the rate, and says how long to wait', () => {
    const limiter = new KeyedRateLimiter(10, 20);
    expect(limiter.take('s', 20, 0).ok).toBe(true);
    expect(limiter.take('s', 5, 0)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limiter.take('s', 5, 500).ok).toBe(true);
    expect(limiter.take('other', 20, 500).ok).toBe(true);
    expect(limiter.take('s', 15, 600)).toEqual({ ok: false, retryAfterSeconds: 2 });
  });

  it('lets a request larger than the burst through only from a full bucket, and 0 disables it', () => {
    const limiter = new KeyedRateLimiter(1, 10);
    expect(limiter.take('s', 50, 0).ok).toBe(true);
    expect(limiter.take('s', 1, 1000).ok).toBe(false);
    expect(new KeyedRateLimiter(0, 1).take('s', 1e9).ok).toBe(true);
  });
});
