import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { withTransaction } from '@tessera/db';
import { PG_POOL } from '@tessera/service-kit';
import { CLOCK, type Clock } from '../clock';
import { reevaluateContacts } from '../evaluation/evaluator.service';
import { OutboxKick } from '../evaluation/outbox-kick';
import { personLock } from './projection.service';

export interface AnonymousLink {
  workspaceId: string;
  userId: string;
  anonymousId: string;
}

/**
 * An identify call tying an anonymous id to a user id: the anonymous id's unresolved events become
 * the user's (person key `u:<userId>`). They resolve now when the user's contact is known, else
 * together with the user's other events when the CRM's contact event arrives. Events already
 * attributed to a contact stay where they are (a shared device), as the CRM does.
 */
export async function linkAnonymous(client: PoolClient, link: AnonymousLink): Promise<{ contactId: string; names: string[] } | undefined> {
  const userKey = `u:${link.userId}`;
  const anonymousKey = `a:${link.anonymousId}`;
  const { rows } = await client.query<{ contact_id: string }>(`SELECT contact_id FROM segmentation.identity WHERE workspace_id = $1::uuid AND person_key = $2`, [link.workspaceId, userKey]);
  const contactId = rows[0]?.contact_id;
  const moved = await client.query<{ name: string }>(
    `UPDATE segmentation.contact_event SET person_key = $3, contact_id = $4::uuid
     WHERE workspace_id = $1::uuid AND person_key = $2 AND contact_id IS NULL RETURNING name`,
    [link.workspaceId, anonymousKey, userKey, contactId ?? null],
  );
  if (!contactId) {
    // Events that carry only the anonymous id and arrive before the contact does follow the user's
    // key, so the contact's arrival resolves them with the rest (the caller holds both keys' locks).
    await client.query(`INSERT INTO segmentation.person_alias (workspace_id, alias_key, person_key) VALUES ($1::uuid, $2, $3) ON CONFLICT DO NOTHING`, [link.workspaceId, anonymousKey, userKey]);
    return undefined;
  }
  // Later events that carry only the anonymous id resolve to the same contact.
  await client.query(`INSERT INTO segmentation.identity (workspace_id, person_key, contact_id) VALUES ($1::uuid, $2, $3::uuid) ON CONFLICT DO NOTHING`, [link.workspaceId, anonymousKey, contactId]);
  return { contactId, names: [...new Set(moved.rows.map((r) => r.name))] };
}

@Injectable()
export class AnonymousLinkService {
  constructor(@Inject(PG_POOL) private readonly pool: Pool, @Inject(CLOCK) private readonly clock: Clock, @Optional() private readonly outbox?: OutboxKick) {}

  /** A batch of identify calls: one transaction; contacts whose events moved are re-evaluated. */
  async linked(links: AnonymousLink[]): Promise<void> {
    if (!links.length) return;
    const changed = await withTransaction(this.pool, async (client) => {
      await client.query(personLock, [[...new Set(links.flatMap((l) => [`${l.workspaceId}|u:${l.userId}`, `${l.workspaceId}|a:${l.anonymousId}`]))]]);
      let n = 0;
      for (const link of links) {
        const claimed = await linkAnonymous(client, link);
        if (!claimed?.names.length) continue;
        const r = await reevaluateContacts(client, link.workspaceId, [claimed.contactId], new Set(claimed.names.map((name) => `event:${name}`)), this.clock.now());
        n += r.entered + r.exited;
      }
      return n;
    });
    if (changed) this.outbox?.kick();
  }
}
