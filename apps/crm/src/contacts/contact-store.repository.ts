import { ConflictException, Inject, Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool, PoolClient, QueryConfig } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { outboxBatchText, type OutboxRow } from '@tessera/bus';
import { OutboxRelayService, PG_POOL } from '@tessera/service-kit';
import { createdData, createdEvent, sameKindEvent } from './contact-events';

export type Db = Pool | PoolClient;

export interface ContactRow {
  id: string;
  workspaceId: string;
  externalId: string | null;
  email: string | null;
  phone: string | null;
  timezone: string | null;
  locale: string | null;
  attributes: Record<string, unknown>;
  attrTs: Record<string, string>;
  version: string;
  mergedInto: string | null;
  erasedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, workspace_id AS "workspaceId", external_id AS "externalId", email, phone, timezone, locale, attributes,
  attr_updated_at AS "attrTs", version::text AS version, merged_into AS "mergedInto", erased_at AS "erasedAt", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** A ContactRow serialised by JSON.stringify, read back column by column (jsonb_to_recordset). */
const CONTACT_RECORD = `t(id uuid, "workspaceId" uuid, "externalId" text, email text, phone text, timezone text, locale text, attributes jsonb, "attrTs" jsonb,
  version bigint, "createdAt" timestamptz, "updatedAt" timestamptz)`;

const RETRYABLE = new Set(['40P01', '40001']);

// COPY's text format: backslash escapes for the four characters that would break a row apart.
const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const copyField = (v: string | null): string => (v === null ? '\\N' : COPY_SPECIAL.test(v) ? v.replace(/[\\\n\r\t]/g, (ch) => COPY_ESCAPES[ch]!) : v);

function contactCopyLine(r: ContactRow): string {
  return `${r.id}\t${r.workspaceId}\t${copyField(r.externalId)}\t${copyField(r.email)}\t${copyField(r.phone)}\t${copyField(r.timezone)}\t${copyField(r.locale)}\t${copyField(JSON.stringify(r.attributes))}\t${copyField(
    JSON.stringify(r.attrTs),
  )}\t${r.version}\t${r.createdAt.toISOString()}\t${r.updatedAt.toISOString()}\n`;
}

export type LookupKind = 'external_id' | 'email' | 'anonymous_id';

/** The profile an identity points at, its merge pointer followed, with its tags: one statement. */
function lookupSql(kind: LookupKind): string {
  const column = kind === 'anonymous_id' ? null : kind;
  return `WITH hit AS (
     ${column ? `(SELECT id FROM contact WHERE workspace_id = $1 AND ${column} = $2 AND erased_at IS NULL) UNION ALL` : ''}
     (SELECT contact_id AS id FROM contact_identity WHERE workspace_id = $1 AND kind = $3 AND value = $2)
     LIMIT 1
   ), live AS (SELECT COALESCE(h.merged_into, h.id) AS live_id FROM hit JOIN contact h ON h.id = hit.id)
   SELECT ${COLUMNS}, ARRAY(SELECT tag FROM contact_tag t WHERE t.contact_id = c.id ORDER BY tag) AS tags
   FROM contact c JOIN live ON c.id = live.live_id WHERE c.workspace_id = $1`;
}

const LOOKUP_SQL: Record<LookupKind, string> = { external_id: lookupSql('external_id'), email: lookupSql('email'), anonymous_id: lookupSql('anonymous_id') };

/** lookupSql for many identities of one kind: the same answer per item, numbered by its place (n). */
function lookupManySql(kind: LookupKind): string {
  const column = kind === 'anonymous_id' ? null : kind;
  return `SELECT q.n::int AS n, ${COLUMNS}, ARRAY(SELECT tag FROM contact_tag t WHERE t.contact_id = c.id ORDER BY tag) AS tags
   FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS q(w, v, n)
   CROSS JOIN LATERAL (
     SELECT COALESCE(h.merged_into, h.id) AS live_id FROM (
       ${column ? `(SELECT id FROM contact WHERE workspace_id = q.w AND ${column} = q.v AND erased_at IS NULL) UNION ALL` : ''}
       (SELECT contact_id AS id FROM contact_identity WHERE workspace_id = q.w AND kind = $3 AND value = q.v)
       LIMIT 1
     ) hit JOIN contact h ON h.id = hit.id
   ) live
   JOIN contact c ON c.id = live.live_id AND c.workspace_id = q.w`;
}

const LOOKUP_MANY_SQL: Record<LookupKind, string> = { external_id: lookupManySql('external_id'), email: lookupManySql('email'), anonymous_id: lookupManySql('anonymous_id') };

export type LiveContact = ContactRow & { tags: string[] };

/** Named, so each pooled connection parses and plans it once (the hot lookup path). */
export function lookupStatement(kind: LookupKind, workspaceId: string, value: string): QueryConfig {
  return { name: `crm_lookup_${kind}`, text: LOOKUP_SQL[kind], values: [workspaceId, value, kind] };
}

/**
 * Raw SQL over the CRM's pg pool for the contact core: row locks, multi-row upserts and the
 * outbox, in transactions the services compose. The only code that writes contacts.
 */
@Injectable()
export class ContactStore {
  constructor(
    @Inject(PG_POOL) readonly pool: Pool,
    private readonly relay: OutboxRelayService,
  ) {}

  /**
   * Runs `fn` in a transaction; retries on deadlock/serialization failure; unique violations become
   * 409. The outbox_batch rows it writes are published straight after commit (handingOffAfter).
   */
  tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    return this.relay.handingOffAfter((body) => this.retried(body), fn);
  }

  private async retried<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = (error as { code?: string }).code;
        if (code && RETRYABLE.has(code) && attempt < 6) {
          await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20));
          continue;
        }
        if (code === '23505') throw new ConflictException(`Conflicts with another contact (${(error as { constraint?: string }).constraint ?? 'unique'})`);
        throw error;
      } finally {
        client.release();
      }
    }
  }

  /** Serialises writers of the same identities (workspace+kind+value), always in one order. */
  async lockIdentities(c: PoolClient, keys: string[]): Promise<void> {
    const unique = [...new Set(keys)];
    if (!unique.length) return;
    await c.query('SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(x, 0) AS k FROM unnest($1::text[]) x ORDER BY 1) s', [unique]);
  }

  async byId(db: Db, workspaceId: string, id: string): Promise<ContactRow | undefined> {
    const { rows } = await db.query<ContactRow>(`SELECT ${COLUMNS} FROM contact WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
    return rows[0];
  }

  /** The live profile an id now stands for (follows merge pointers). */
  async resolve(db: Db, workspaceId: string, id: string): Promise<ContactRow | undefined> {
    let row = await this.byId(db, workspaceId, id);
    for (let hops = 0; row?.mergedInto && hops < 10; hops++) row = await this.byId(db, workspaceId, row.mergedInto);
    return row;
  }

  /**
   * Locks rows in id order (the order every writer uses). One primary-key probe per id: with
   * `id = ANY($2)` the planner took a bus batch's 500 ids for a seq scan of the whole workspace
   * (measured at 40k contacts: 15 µs of Postgres CPU per row, 8 µs this way); a sub-select with
   * FOR UPDATE is never flattened, so each id is looked up and locked in the order given.
   */
  async lockMany(c: PoolClient, workspaceId: string, ids: string[]): Promise<Map<string, ContactRow>> {
    const sorted = [...new Set(ids)].sort();
    const { rows } = await c.query<ContactRow>(
      `SELECT ${COLUMNS} FROM unnest($2::uuid[]) WITH ORDINALITY AS wanted(contact_id, n)
         CROSS JOIN LATERAL (SELECT * FROM contact WHERE id = wanted.contact_id AND workspace_id = $1 FOR UPDATE) c
       ORDER BY n`,
      [workspaceId, sorted],
    );
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** Locks the live profile behind `id`; re-resolves when a merge moved it while we waited. */
  async lockLive(c: PoolClient, workspaceId: string, id: string): Promise<ContactRow | undefined> {
    let target = id;
    for (let hops = 0; hops < 10; hops++) {
      const row = (await this.lockMany(c, workspaceId, [target])).get(target);
      if (!row?.mergedInto) return row;
      target = row.mergedInto;
    }
    return undefined;
  }

  /** A contact id by identity: external id, email, phone, or a secondary identity (anonymous id, a merged loser's ids). */
  async findIdBy(db: Db, workspaceId: string, kind: 'external_id' | 'email' | 'phone' | 'anonymous_id', value: string): Promise<string | undefined> {
    if (kind !== 'anonymous_id') {
      // external_id and email are unique: the index answers. A phone may be shared: take the most
      // recently updated live holder, sorting only its rows (OFFSET 0 keeps the planner from
      // walking the updated_at index instead).
      const { rows } = await db.query<{ id: string }>(
        kind === 'phone'
          ? `SELECT id FROM (SELECT id, merged_into, updated_at FROM contact WHERE workspace_id = $1 AND phone = $2 AND erased_at IS NULL OFFSET 0) s
             ORDER BY merged_into NULLS FIRST, updated_at DESC LIMIT 1`
          : `SELECT id FROM contact WHERE workspace_id = $1 AND ${kind} = $2 AND erased_at IS NULL`,
        [workspaceId, value],
      );
      if (rows[0]) return rows[0].id;
    }
    const { rows } = await db.query<{ contact_id: string }>('SELECT contact_id FROM contact_identity WHERE workspace_id = $1 AND kind = $2 AND value = $3', [workspaceId, kind, value]);
    return rows[0]?.contact_id;
  }

  /**
   * The live profile and its tags behind an external id, email or anonymous id, in ONE round trip
   * (the lookup API's hot path): the unique column first, else a secondary identity; merge
   * pointers are flat (one hop). Phone lookups take `findIdBy`, which picks among shared numbers.
   */
  async lookupLive(db: Db, workspaceId: string, kind: LookupKind, value: string): Promise<LiveContact | undefined> {
    const { rows } = await db.query<LiveContact>(lookupStatement(kind, workspaceId, value));
    return rows[0];
  }

  /**
   * lookupLive for many identities of one kind in ONE statement, answered in the order given
   * (undefined: none). The lookup API coalesces concurrent requests into it.
   */
  async lookupLiveMany(kind: LookupKind, items: { workspaceId: string; value: string }[]): Promise<(LiveContact | undefined)[]> {
    // Named, so each pooled connection parses and plans it once.
    const { rows } = await this.pool.query<LiveContact & { n: number }>({
      name: `crm_lookup_many_${kind}`,
      text: LOOKUP_MANY_SQL[kind],
      values: [items.map((i) => i.workspaceId), items.map((i) => i.value), kind],
    });
    const found: (LiveContact | undefined)[] = new Array(items.length).fill(undefined);
    for (const row of rows) found[row.n - 1] = row;
    return found;
  }

  async insert(c: PoolClient, rows: ContactRow[]): Promise<void> {
    if (!rows.length) return;
    await c.query(
      `INSERT INTO contact (id, workspace_id, external_id, email, phone, timezone, locale, attributes, attr_updated_at, version, created_at, updated_at)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::jsonb[], $10::bigint[], $11::timestamptz[], $11::timestamptz[])`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.workspaceId),
        rows.map((r) => r.externalId),
        rows.map((r) => r.email),
        rows.map((r) => r.phone),
        rows.map((r) => r.timezone),
        rows.map((r) => r.locale),
        rows.map((r) => JSON.stringify(r.attributes)),
        rows.map((r) => JSON.stringify(r.attrTs)),
        rows.map((r) => r.version),
        rows.map((r) => r.createdAt),
      ],
    );
  }

  /** Writes the given rows back in one statement (values computed by the caller under row locks). */
  async update(c: PoolClient, rows: ContactRow[]): Promise<void> {
    if (!rows.length) return;
    await c.query(
      `UPDATE contact c SET external_id = u.external_id, email = u.email, phone = u.phone, timezone = u.timezone, locale = u.locale,
         attributes = u.attributes, attr_updated_at = u.attr_ts, version = u.version, merged_into = u.merged_into, erased_at = u.erased_at, updated_at = u.updated_at
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::jsonb[], $9::bigint[], $10::uuid[], $11::timestamptz[], $12::timestamptz[])
         AS u(id, external_id, email, phone, timezone, locale, attributes, attr_ts, version, merged_into, erased_at, updated_at)
       WHERE c.id = u.id`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.externalId),
        rows.map((r) => r.email),
        rows.map((r) => r.phone),
        rows.map((r) => r.timezone),
        rows.map((r) => r.locale),
        rows.map((r) => JSON.stringify(r.attributes)),
        rows.map((r) => JSON.stringify(r.attrTs)),
        rows.map((r) => r.version),
        rows.map((r) => r.mergedInto),
        rows.map((r) => r.erasedAt),
        rows.map((r) => r.updatedAt),
      ],
    );
  }

  /**
   * Inserts, updates, identities and the batch's events of a bus batch or an import batch in ONE
   * statement (data-modifying CTEs touch disjoint rows), so a batch costs one round trip to write
   * whatever its size. Contact rows travel as one JSON document each, not as per-column arrays: one
   * native JSON.stringify instead of escaping every element of a dozen text arrays. The events go
   * out, in the order given, as one `outbox_batch` row (the bus's batch layout; inside tx() handed
   * off after commit, else relayed by the outbox relay): for hundreds of events, far cheaper for
   * Postgres than a jsonb row each.
   */
  async writeBatch(
    c: PoolClient,
    b: { inserts: ContactRow[]; updates: ContactRow[]; identities: { workspaceId: string; kind: string; value: string; contactId: string }[]; events: OutboxRow[] },
  ): Promise<void> {
    if (!b.inserts.length && !b.updates.length && !b.identities.length && !b.events.length) return;
    const i = b.identities;
    const events = b.events.length ? outboxBatchText(b.events) : '';
    // Inside tx(), the row is handed off after commit; elsewhere the relay is woken for it.
    const direct = this.relay.handsOff(c);
    const { rows } = await c.query<{ outbox_id: string | null }>(
      `WITH ins AS (
         INSERT INTO contact (id, workspace_id, external_id, email, phone, timezone, locale, attributes, attr_updated_at, version, created_at, updated_at)
         SELECT id, "workspaceId", "externalId", email, phone, timezone, locale, attributes, "attrTs", version, "createdAt", "updatedAt" FROM jsonb_to_recordset($1::jsonb) AS ${CONTACT_RECORD}
       ), upd AS (
         UPDATE contact c SET external_id = t."externalId", email = t.email, phone = t.phone, timezone = t.timezone, locale = t.locale,
           attributes = t.attributes, attr_updated_at = t."attrTs", version = t.version, updated_at = t."updatedAt"
         FROM jsonb_to_recordset($2::jsonb) AS ${CONTACT_RECORD}
         WHERE c.id = t.id
       ), ids AS (
         INSERT INTO contact_identity (workspace_id, kind, value, contact_id)
         SELECT DISTINCT ON (w, k, v) w, k, v, id FROM unnest($3::uuid[], $4::text[], $5::text[], $6::uuid[]) WITH ORDINALITY AS t(w, k, v, id, n) ORDER BY w, k, v, n DESC
         ON CONFLICT (workspace_id, kind, value) DO UPDATE SET contact_id = EXCLUDED.contact_id
       ), outbox_rows AS (
         INSERT INTO outbox_batch (events, count, direct) SELECT $7, $8, $9 WHERE $8 > 0 RETURNING id
       )
       SELECT (SELECT id::text FROM outbox_rows) AS outbox_id`,
      [
        JSON.stringify(b.inserts),
        JSON.stringify(b.updates),
        i.map((r) => r.workspaceId),
        i.map((r) => r.kind),
        i.map((r) => r.value),
        i.map((r) => r.contactId),
        events,
        b.events.length,
        direct,
      ],
    );
    const key = rows[0]?.outbox_id;
    if (direct && key) this.relay.writtenDirect(c, key, events);
  }

  /**
   * New contacts by COPY (an import's batch): cheaper for Postgres than a JSON document of rows.
   * Returns their `contact.created` events for the caller's `writeBatch`. The first event goes
   * through outboxRow (contract check, trace context); the others of the same workspace reuse its
   * envelope with their own id, time, partition key and payload (sameKindEvent), built by the same
   * createdData over fields and attributes already normalised and schema-checked (the per-event
   * class-transformer check was the largest single CPU cost of an import). Callers hold the
   * identities' locks and checked that none exists, as for `insert`; a unique violation still
   * aborts the transaction.
   */
  async copyCreated(c: PoolClient, rows: ContactRow[]): Promise<OutboxRow[]> {
    if (!rows.length) return [];
    const first = createdEvent(rows[0]!);
    const events = [first, ...rows.slice(1).map((r) => (r.workspaceId === first.envelope.workspaceId ? sameKindEvent(first, createdData(r), r.createdAt) : createdEvent(r)))];
    await pipeline(
      Readable.from([rows.map(contactCopyLine).join('')]),
      c.query(copyFrom('COPY contact (id, workspace_id, external_id, email, phone, timezone, locale, attributes, attr_updated_at, version, created_at, updated_at) FROM STDIN')),
    );
    return events;
  }

  /** Points identities at a contact (moving them if they pointed elsewhere). */
  async upsertIdentities(c: PoolClient, rows: { workspaceId: string; kind: string; value: string; contactId: string }[]): Promise<void> {
    if (!rows.length) return;
    await c.query(
      `INSERT INTO contact_identity (workspace_id, kind, value, contact_id)
       SELECT DISTINCT ON (w, k, v) w, k, v, id FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[]) WITH ORDINALITY AS u(w, k, v, id, n) ORDER BY w, k, v, n DESC
       ON CONFLICT (workspace_id, kind, value) DO UPDATE SET contact_id = EXCLUDED.contact_id`,
      [rows.map((r) => r.workspaceId), rows.map((r) => r.kind), rows.map((r) => r.value), rows.map((r) => r.contactId)],
    );
  }

  async outbox(c: PoolClient, rows: OutboxRow[]): Promise<void> {
    if (!rows.length) return;
    await c.query('INSERT INTO outbox (id, subject, envelope, headers) SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::jsonb[])', [
      rows.map((r) => r.id),
      rows.map((r) => r.subject),
      rows.map((r) => JSON.stringify(r.envelope)),
      rows.map((r) => JSON.stringify(r.headers)),
    ]);
  }

  /**
   * `claimEvents` and `lockIdentities` in one round trip, for a bus batch: claims the event ids and
   * takes the identities' advisory locks (sorted), returning the ids not seen before.
   */
  async claimAndLock(c: PoolClient, ids: string[], keys: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const { rows } = await c.query<{ ids: string[] }>(
      `WITH claimed AS (INSERT INTO processed_event (id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING RETURNING id)
       SELECT (SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT DISTINCT hashtextextended(x, 0) AS k FROM unnest($2::text[]) x ORDER BY 1) s) AS locks,
         ARRAY(SELECT id FROM claimed) AS ids`,
      [ids, [...new Set(keys)]],
    );
    return new Set(rows[0]!.ids);
  }

  /** Claims event ids; returns those not seen before (the rest are redeliveries to skip). */
  async claimEvents(c: PoolClient, ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const { rows } = await c.query<{ id: string }>('INSERT INTO processed_event (id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING RETURNING id', [ids]);
    return new Set(rows.map((r) => r.id));
  }

  async tags(db: Db, contactId: string): Promise<{ tag: string; addedAt: Date }[]> {
    const { rows } = await db.query<{ tag: string; addedAt: Date }>('SELECT tag, added_at AS "addedAt" FROM contact_tag WHERE contact_id = $1 ORDER BY tag', [contactId]);
    return rows;
  }

  async list(
    db: Db,
    workspaceId: string,
    f: { email?: string; externalId?: string; tag?: string; list?: string; updatedSince?: Date; cursor?: string; limit: number },
  ): Promise<ContactRow[]> {
    const { rows } = await db.query<ContactRow>(
      `SELECT ${COLUMNS} FROM contact c WHERE workspace_id = $1 AND merged_into IS NULL AND erased_at IS NULL
         AND ($2::text IS NULL OR email = $2) AND ($3::text IS NULL OR external_id = $3)
         AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM contact_tag t WHERE t.contact_id = c.id AND t.tag = $4))
         AND ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM list_member m WHERE m.contact_id = c.id AND m.list_id = $5))
         AND ($6::timestamptz IS NULL OR updated_at >= $6) AND ($7::uuid IS NULL OR id > $7)
       ORDER BY id LIMIT $8`,
      [workspaceId, f.email ?? null, f.externalId ?? null, f.tag ?? null, f.list ?? null, f.updatedSince ?? null, f.cursor ?? null, f.limit],
    );
    return rows;
  }
}
