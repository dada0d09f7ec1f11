import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { API_KEY_REVOKED_V1, VERIFY_API_KEY_V1 } from '@tessera/contracts';
import { EVENT_BUS, JetStreamBus } from '@tessera/bus';
import type { AuthContext } from './auth.decorators';

export const KEY_VERIFIER = Symbol('KEY_VERIFIER');

/** Resolves a key hash to its workspace and scopes, or null when unknown or revoked. */
export interface KeyVerifier {
  verify(keyHash: string): Promise<AuthContext | null>;
}

const VALID_TTL_MS = 5_000;
const INVALID_TTL_MS = 1_000;
/** A valid key used this close to its expiry is re-asked in the background (see verify). */
const REFRESH_AHEAD_MS = 1_000;

/**
 * Verifies keys by asking the CRM (which owns workspaces and keys) over request/reply, caching
 * answers for a few seconds. A revocation reaches every replica at once through a broadcast
 * subscription; the short TTL bounds staleness even if that message is missed.
 *
 * One question per key at a time, asked before the answer expires: a key in steady use at 1,000
 * requests/s would otherwise send every request that arrives while its entry is being refreshed to
 * the CRM on its own, a burst of round trips every TTL (measured: the CRM lookup's p99 at 5 s
 * intervals went from ~20 ms to over 100 ms).
 */
@Injectable()
export class BusKeyVerifier implements KeyVerifier, OnModuleInit {
  private readonly cache = new Map<string, { value: AuthContext | null; expires: number }>();
  private readonly asking = new Map<string, Promise<AuthContext | null>>();
  /** Bumped by every revocation, so an answer asked for before it is not cached after it. */
  private revocations = 0;

  constructor(@Inject(EVENT_BUS) private readonly bus: JetStreamBus) {}

  onModuleInit(): void {
    this.bus.onBroadcast(API_KEY_REVOKED_V1.subject, (envelope) => {
      const { keyHash } = envelope.data as { keyHash: string };
      this.revocations++;
      this.cache.delete(keyHash);
      this.asking.delete(keyHash);
    });
  }

  async verify(keyHash: string): Promise<AuthContext | null> {
    const hit = this.cache.get(keyHash);
    const now = Date.now();
    if (hit && hit.expires > now) {
      // The answer stays valid until it expires; refreshing early keeps callers from ever waiting.
      if (hit.value && hit.expires - now < REFRESH_AHEAD_MS) this.ask(keyHash).catch(() => undefined);
      return hit.value;
    }
    return this.ask(keyHash);
  }

  private ask(keyHash: string): Promise<AuthContext | null> {
    let pending = this.asking.get(keyHash);
    if (!pending) {
      const asked = this.revocations;
      pending = this.bus
        .request(VERIFY_API_KEY_V1.subject, { keyHash }, { timeoutMs: 2000 })
        .then((answer) => {
          const value = answer.valid && answer.keyId && answer.workspaceId ? { keyId: answer.keyId, workspaceId: answer.workspaceId, scopes: answer.scopes ?? [] } : null;
          if (asked === this.revocations) {
            if (this.cache.size > 10_000) this.cache.clear();
            this.cache.set(keyHash, { value, expires: Date.now() + (value ? VALID_TTL_MS : INVALID_TTL_MS) });
          }
          return value;
        })
        .finally(() => {
          if (this.asking.get(keyHash) === pending) this.asking.delete(keyHash);
        });
      this.asking.set(keyHash, pending);
    }
    return pending;
  }
}
