import { Injectable } from '@nestjs/common';
import { hashApiKey } from '@tessera/service-kit';
import type { SourceRecord } from './source';
import { SourcesRepository } from './sources.repository';

const TTL_MS = 10_000;
/** Unknown keys are remembered briefly too, so a client with a wrong key cannot hammer Postgres. */
const MISS_TTL_MS = 2_000;
const MAX_ENTRIES = 10_000;

/** An entry this close to expiry is reloaded in the background while it is still served. */
const REFRESH_AHEAD_MS = 2_000;

interface Entry {
  source: SourceRecord | undefined;
  expires: number;
  /** The load in flight for this key, shared by every caller meanwhile. */
  loading?: Promise<SourceRecord | undefined>;
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

  /**
   * One load per key at a time (callers that miss together share it), and a hit near expiry
   * starts the next load in the background: on a busy key no request waits for Postgres, and
   * an entry is never served past its TTL.
   */
  private async cached(map: Map<string, Entry>, key: string, load: () => Promise<SourceRecord | undefined>): Promise<SourceRecord | undefined> {
    const now = Date.now();
    let entry = map.get(key);
    if (entry && entry.expires > now) {
      if (!entry.loading && entry.expires - now < REFRESH_AHEAD_MS) void this.reload(entry, load).catch(() => undefined);
      return entry.source;
    }
    if (!entry) {
      if (map.size >= MAX_ENTRIES) map.clear();
      entry = { source: undefined, expires: 0 };
      map.set(key, entry);
    }
    return entry.loading ?? this.reload(entry, load);
  }

  private reload(entry: Entry, load: () => Promise<SourceRecord | undefined>): Promise<SourceRecord | undefined> {
    const loading = load().then(
      (source) => {
        entry.source = source;
        entry.expires = Date.now() + (source ? TTL_MS : MISS_TTL_MS);
        entry.loading = undefined;
        // Cleared meanwhile (an admin change): the entry is detached from the map, so nothing is cached.
        return source;
      },
      (error: unknown) => {
        entry.loading = undefined;
        throw error;
      },
    );
    entry.loading = loading;
    return loading;
  }
}
