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

/**
 * Verifies keys by asking the CRM (which owns workspaces and keys) over request/reply, caching
 * answers for a few seconds. A revocation reaches every replica at once through a broadcast
 * subscription; the short TTL bounds staleness even if that message is missed.
 */
@Injectable()
export class BusKeyVerifier implements KeyVerifier, OnModuleInit {
  private readonly cache = new Map<string, { value: AuthContext | null; expires: number }>();

  constructor(@Inject(EVENT_BUS) private readonly bus: JetStreamBus) {}

  onModuleInit(): void {
    this.bus.onBroadcast(API_KEY_REVOKED_V1.subject, (envelope) => this.cache.delete((envelope.data as { keyHash: string }).keyHash));
  }

  async verify(keyHash: string): Promise<AuthContext | null> {
    const hit = this.cache.get(keyHash);
    if (hit && hit.expires > Date.now()) return hit.value;
    const answer = await this.bus.request(VERIFY_API_KEY_V1.subject, { keyHash }, { timeoutMs: 2000 });
    const value = answer.valid && answer.keyId && answer.workspaceId ? { keyId: answer.keyId, workspaceId: answer.workspaceId, scopes: answer.scopes ?? [] } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(keyHash, { value, expires: Date.now() + (value ? VALID_TTL_MS : INVALID_TTL_MS) });
    return value;
  }
}
