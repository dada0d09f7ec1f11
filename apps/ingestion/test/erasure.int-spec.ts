import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEnvelope } from '@tessera/bus';
import { CONTACT_ERASED_V2, DEFAULT_WORKSPACE_ID, type ContactErasedV2, type EventEnvelope } from '@tessera/contracts';
import { DELETE_ARCHIVED_BY_HASH } from '../src/archive/erasure.repository';
import { MaintenanceService } from '../src/archive/maintenance.service';
import { basic, startIngestion, waitFor, WRITE_KEY, type Harness } from './helpers';

const sha = (v: string): string => createHash('sha256').update(v, 'utf8').digest('hex');
const OTHER_WORKSPACE = '00000000-0000-4000-8000-0000000000ff';

describe('archive erasure (crm.contact.erased.v2)', () => {
  let h: Harness;

  const track = async (batch: Record<string, unknown>[]): Promise<void> => {
    const response = await fetch(`${h.ingestion.url}/v1/batch`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic(WRITE_KEY) }, body: JSON.stringify({ batch }) });
    expect(response.status).toBe(200);
  };
  const archived = async (): Promise<{ workspace_id: string; user_id: string | null; anonymous_id: string | null }[]> =>
    (await h.query('SELECT workspace_id, user_id, anonymous_id FROM ingestion.event_archive ORDER BY user_id, anonymous_id')).rows;
  /** Publishes as the CRM would: JetStream, namespaced, a real envelope (Nats-Msg-Id unique, so a resend is a redelivery). */
  const publishErasure = async (envelope: EventEnvelope<ContactErasedV2>): Promise<void> => {
    await h.nc.jetstream().publish(`${h.namespace}.${CONTACT_ERASED_V2.subject}`, JSON.stringify(envelope), { msgID: `${envelope.id}-${randomUUID()}` });
  };
  /** Every erasure published so far was handled (the durable consumer has nothing pending or unacked). */
  const erasuresHandled = async (): Promise<boolean> => {
    const info = await (await h.nc.jetstreamManager()).consumers.info(`${h.namespace}_CRM`, `ingestion-${CONTACT_ERASED_V2.subject.replace(/\./g, '_')}`);
    return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq > 0;
  };

  beforeAll(async () => {
    h = await startIngestion('ingerase');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('deletes the erased person’s archived events by id hash, leaves everyone else’s, and a redelivery is harmless', async () => {
    await track([
      { type: 'identify', userId: 'erase-me', anonymousId: 'erase-anon-1', traits: { email: 'erase@example.com' }, messageId: 'e-1' },
      // A backslash and non-ASCII: the SQL hash must see the same UTF-8 bytes as the CRM's and Node's.
      { type: 'track', anonymousId: 'erase\\x41-anon-ü', event: 'Viewed', messageId: 'e-2' },
      { type: 'track', userId: 'erase@example.com', event: 'Signed In', messageId: 'e-3' },
      // Stands for an inbound SMS, archived under its sender's number.
      { type: 'track', userId: '+4915100000001', event: 'Texted', messageId: 'e-4' },
      { type: 'track', userId: 'keep-me', anonymousId: 'keep-anon', event: 'Viewed', messageId: 'k-1' },
      { type: 'page', anonymousId: 'keep-anon-2', name: 'Home', messageId: 'k-2' },
    ]);
    await waitFor(async () => (await archived()).length === 6);
    // The same userId in another workspace is another person.
    await h.query(
      `INSERT INTO ingestion.event_archive (id, received_at, workspace_id, source_id, subject, user_id, anonymous_id, envelope)
       VALUES ($1, now(), $2, $3, 'ingestion.event.received.v1', 'erase-me', NULL, '{}')`,
      [randomUUID(), OTHER_WORKSPACE, randomUUID()],
    );

    const erasure = buildEnvelope(
      'crm',
      CONTACT_ERASED_V2.subject,
      { contactId: randomUUID(), erasedAt: new Date().toISOString(), externalIdHashes: [sha('erase-me')], anonymousIdHashes: [sha('erase-anon-1'), sha('erase\\x41-anon-ü')], emailHashes: [sha('erase@example.com')], phoneHashes: [sha('+4915100000001')] },
      { workspaceId: DEFAULT_WORKSPACE_ID },
    ) as EventEnvelope<ContactErasedV2>;
    await publishErasure(erasure);
    await waitFor(async () => (await archived()).length === 3, 10_000);
    const expected = [
      { workspace_id: DEFAULT_WORKSPACE_ID, user_id: 'keep-me', anonymous_id: 'keep-anon' },
      { workspace_id: DEFAULT_WORKSPACE_ID, user_id: null, anonymous_id: 'keep-anon-2' },
      { workspace_id: OTHER_WORKSPACE, user_id: 'erase-me', anonymous_id: null },
    ];
    expect((await archived()).sort((a, b) => a.workspace_id.localeCompare(b.workspace_id))).toEqual(expected);
    // Ingestion keeps only the hashes, to sweep events of erased ids that arrive later.
    const remembered = (await h.query(`SELECT encode(sha256, 'hex') AS h FROM ingestion.erased_identity WHERE workspace_id = $1 ORDER BY 1`, [DEFAULT_WORKSPACE_ID])).rows.map((r) => r.h);
    expect(remembered).toEqual([sha('erase-me'), sha('erase-anon-1'), sha('erase\\x41-anon-ü'), sha('erase@example.com'), sha('+4915100000001')].sort());

    // Redelivery of the same event: handled again without error, nothing else touched.
    await publishErasure(erasure);
    await waitFor(erasuresHandled, 10_000);
    expect((await archived()).sort((a, b) => a.workspace_id.localeCompare(b.workspace_id))).toEqual(expected);
    expect((await h.query(`SELECT count(*)::int AS n FROM ingestion.erased_identity`)).rows[0].n).toBe(5);
  });

  it('sweeps events of an erased id archived after the erasure (SDKs that still hold it)', async () => {
    await track([{ type: 'track', userId: 'erase-me', event: 'Came Back', messageId: 'late-1' }, { type: 'track', userId: 'keep-me', event: 'Still Here', messageId: 'late-2' }]);
    const ofUser = async (userId: string): Promise<number> =>
      (await h.query('SELECT count(*)::int AS n FROM ingestion.event_archive WHERE workspace_id = $1 AND user_id = $2', [DEFAULT_WORKSPACE_ID, userId])).rows[0].n;
    await waitFor(async () => (await ofUser('keep-me')) === 2);
    expect(await ofUser('erase-me')).toBe(1);
    await h.ingestion.app.get(MaintenanceService).run();
    expect(await ofUser('erase-me')).toBe(0);
    expect(await ofUser('keep-me')).toBe(2);
  });

  it('finds an erased person through the identity-hash indexes, not by hashing every archived row', async () => {
    // Enough rows that the planner's choice means something, then the handler's own statement.
    await h.query(
      `INSERT INTO ingestion.event_archive (id, received_at, workspace_id, source_id, subject, user_id, anonymous_id, envelope)
       SELECT gen_random_uuid(), now() - (i % 20) * interval '1 hour', $1, $2, 'ingestion.event.received.v1', CASE WHEN i % 3 = 0 THEN 'bulk-user-' || (i % 5000) END, 'bulk-anon-' || i, '{}'
         FROM generate_series(1, 30000) AS i`,
      [DEFAULT_WORKSPACE_ID, randomUUID()],
    );
    await h.query('ANALYZE ingestion.event_archive');
    // The repository's SQL names tables unqualified (the service's pool sets search_path): do the same.
    const client = new pg.Client({ connectionString: h.db.url, options: '-c search_path=ingestion' });
    await client.connect();
    const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${DELETE_ARCHIVED_BY_HASH}`, [DEFAULT_WORKSPACE_ID, [Buffer.from(sha('bulk-user-7'), 'hex')]]).finally(() => client.end());
    const nodes: Record<string, unknown>[] = [];
    const walk = (n: Record<string, unknown>): void => {
      nodes.push(n);
      for (const child of (n['Plans'] as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    walk((rows[0]?.['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan);
    // Each populated partition answers from its two identity-hash indexes (Postgres inlines
    // identity_sha256, so the conditions show its body: sha256 of the column).
    const conds = nodes.filter((n) => String(n['Index Name'] ?? '').includes('sha256')).map((n) => String(n['Index Cond']));
    expect(conds.some((c) => /sha256\(.*user_id/.test(c))).toBe(true);
    expect(conds.some((c) => /sha256\(.*anonymous_id/.test(c))).toBe(true);
    // No partition that holds rows is read whole (empty future partitions may show a zero-cost Seq Scan).
    expect(nodes.filter((n) => n['Node Type'] === 'Seq Scan' && Number(n['Total Cost']) > 0)).toEqual([]);
  });
});
