import { Injectable } from '@nestjs/common';
import { hashApiKey } from '@tessera/service-kit';
import type { SourceRecord } from './source';
import { SourcesRepository } from './sources.repository';

const TTL_MS = 10_000;
/** Unknown keys are remembered briefly too, so a client with a wrong key cannot hammer Postgres. */
const MISS_TTL_MS = 2_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  source: SourceRecord | undefined;
  expires: number;
}

/**
 * Write-key and source-id lookups cached for a few seconds per replica: a rotated or deleted key
 * stops working within TTL_MS (the admin API also evicts on this replica at once).
 */
@Injectable()
export class SourceCacheService {
  private readonly byKey = new Map<string, Entry>();
  private readonly byId = new Map<string, Entry>();

  constructor(private readonly repository: SourcesRepository) {}

  /** Keyed by the key itself (process memory only): a hit costs no sha256. */
  async byWriteKey(writeKey: string): Promise<SourceRecord | undefined> {
    return this.cached(this.byKey, writeKey, () => this.repository.findByWriteKeyHash(hashApiKey(writeKey), new Date()));
  }

  async byIdentifier(id: string): Promise<SourceRecord | undefined> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
    return this.cached(this.byId, id.toLowerCase(), () => this.repository.findById(id));
  }

  /** Forgets everything (after an admin change on this replica). */
  clear(): void {
    this.byKey.clear();
    this.byId.clear();
  }

  private async cached(map: Map<string, Entry>, key: string, load: () => Promise<SourceRecord | undefined>): Promise<SourceRecord | undefined> {
    const now = Date.now();
    const hit = map.get(key);
    if (hit && hit.expires > now) return hit.source;
    const source = await load();
    if (map.size >= MAX_ENTRIES) map.clear();
    map.set(key, { source, expires: now + (source ? TTL_MS : MISS_TTL_MS) });
    return source;
  }
}
