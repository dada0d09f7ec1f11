import type { PoolClient } from 'pg';

/** Standard CRM fields kept in `attrs` beside custom attributes, under these names. */
export const STANDARD_FIELDS = ['externalId', 'email', 'phone', 'timezone', 'locale'] as const;

export interface ContactSnapshot {
  workspaceId: string;
  contactId: string;
  /** Custom attributes and standard fields, by name. */
  attrs: Record<string, unknown>;
}

export interface NewEvent {
  id: string;
  workspaceId: string;
  /** `u:<userId>` or `a:<anonymousId>`. */
  personKey: string;
  /** The other key of the same call (anonymousId when personKey is the userId), tried when the first does not resolve. */
  altKey?: string;
  name: string;
  occurredAt: string;
  properties: Record<string, unknown>;
}

export function validTimezone(tz: unknown): string | null {
  if (typeof tz !== 'string' || !tz) return null;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return tz;
  } catch {
    return null;
  }
}

/** Records an event id; false when it was applied already (at-least-once delivery). */
export async function firstDelivery(client: PoolClient, eventId: string): Promise<boolean> {
  const r = await client.query(`INSERT INTO segmentation.processed_event (id) VALUES ($1::uuid) ON CONFLICT DO NOTHING`, [eventId]);
  return r.rowCount === 1;
}

/**
 * Creates or replaces-in-part a contact's attributes; `unset` removes names. Returns the names that
 * changed. The person key `u:<externalId>` is (re)pointed at the contact and its unresolved events
 * are claimed.
 */
export async function upsertContact(client: PoolClient, c: ContactSnapshot, unset: string[]): Promise<{ created: boolean; changed: string[]; claimedEvents: string[] }> {
  const { rows } = await client.query<{ old: Record<string, unknown> | null }>(`SELECT attrs AS old FROM segmentation.contact WHERE id = $1::uuid FOR UPDATE`, [c.contactId]);
  const old = rows[0]?.old ?? {};
  const next: Record<string, unknown> = { ...old, ...c.attrs };
  for (const name of unset) delete next[name];
  const changed = [...new Set([...Object.keys(old), ...Object.keys(next)])].filter((k) => JSON.stringify(old[k]) !== JSON.stringify(next[k]));
  const externalId = typeof next.externalId === 'string' ? next.externalId : null;
  await client.query(
    `INSERT INTO segmentation.contact (id, workspace_id, attrs, timezone, external_id, updated_at) VALUES ($1::uuid, $2::uuid, $3::jsonb, $4, $5, now())
     ON CONFLICT (id) DO UPDATE SET attrs = EXCLUDED.attrs, timezone = EXCLUDED.timezone, external_id = EXCLUDED.external_id, updated_at = now()`,
    [c.contactId, c.workspaceId, JSON.stringify(next), validTimezone(next.timezone), externalId],
  );
  let claimedEvents: string[] = [];
  if (externalId && old.externalId !== externalId) {
    await client.query(
      `INSERT INTO segmentation.identity (workspace_id, person_key, contact_id) VALUES ($1::uuid, $2, $3::uuid)
       ON CONFLICT (workspace_id, person_key) DO UPDATE SET contact_id = EXCLUDED.contact_id`,
      [c.workspaceId, `u:${externalId}`, c.contactId],
    );
    const claimed = await client.query<{ name: string }>(
      `UPDATE segmentation.contact_event SET contact_id = $3::uuid WHERE workspace_id = $1::uuid AND person_key = $2 AND contact_id IS NULL RETURNING name`,
      [c.workspaceId, `u:${externalId}`, c.contactId],
    );
    claimedEvents = [...new Set(claimed.rows.map((r) => r.name))];
  }
  return { created: !rows[0], changed, claimedEvents };
}

/** Re-keys everything of `mergedId` to `survivorId` (the survivor's own rows win on conflict) and drops the merged contact. */
export async function mergeContacts(client: PoolClient, workspaceId: string, survivorId: string, mergedId: string): Promise<void> {
  const args = [mergedId, survivorId];
  await client.query(`UPDATE segmentation.contact_event SET contact_id = $2::uuid WHERE contact_id = $1::uuid`, args);
  await client.query(`UPDATE segmentation.identity SET contact_id = $2::uuid WHERE contact_id = $1::uuid`, args);
  await client.query(`UPDATE segmentation.message_engagement SET contact_id = $2::uuid WHERE contact_id = $1::uuid`, args);
  await client.query(`UPDATE segmentation.custom_object SET contact_id = $2::uuid WHERE contact_id = $1::uuid`, args);
  const copies: [string, string][] = [
    ['consent', 'channel, grp, state, changed_at'],
    ['contact_tag', 'tag'],
    ['list_member', 'list_id'],
  ];
  for (const [table, columns] of copies) {
    await client.query(
      `INSERT INTO segmentation.${table} (workspace_id, contact_id, ${columns}) SELECT workspace_id, $2::uuid, ${columns} FROM segmentation.${table} WHERE contact_id = $1::uuid ON CONFLICT DO NOTHING`,
      args,
    );
    await client.query(`DELETE FROM segmentation.${table} WHERE contact_id = $1::uuid`, [mergedId]);
  }
  // Attributes the survivor lacks are taken from the merged profile (the CRM also sends the survivor's update).
  await client.query(
    `UPDATE segmentation.contact s SET attrs = m.attrs || s.attrs, timezone = COALESCE(s.timezone, m.timezone)
     FROM segmentation.contact m WHERE s.id = $2::uuid AND m.id = $1::uuid AND s.workspace_id = $3::uuid`,
    [...args, workspaceId],
  );
  await client.query(`DELETE FROM segmentation.contact WHERE id = $1::uuid`, [mergedId]);
}

/** Erasure: every row about the contact goes, including its events. */
export async function eraseContact(client: PoolClient, contactId: string): Promise<void> {
  await client.query(
    `DELETE FROM segmentation.person_alias al USING segmentation.identity i
     WHERE i.contact_id = $1::uuid AND al.workspace_id = i.workspace_id AND (al.person_key = i.person_key OR al.alias_key = i.person_key)`,
    [contactId],
  );
  for (const table of ['contact_event', 'identity', 'consent', 'contact_tag', 'list_member', 'custom_object', 'message_engagement', 'time_check', 'membership'])
    await client.query(`DELETE FROM segmentation.${table} WHERE contact_id = $1::uuid`, [contactId]);
  await client.query(`DELETE FROM segmentation.contact WHERE id = $1::uuid`, [contactId]);
}

export async function setConsent(client: PoolClient, workspaceId: string, contactId: string, channel: string, group: string, state: string, changedAt: string): Promise<boolean> {
  const r = await client.query(
    `INSERT INTO segmentation.consent (workspace_id, contact_id, channel, grp, state, changed_at) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::timestamptz)
     ON CONFLICT (contact_id, channel, grp) DO UPDATE SET state = EXCLUDED.state, changed_at = EXCLUDED.changed_at
       WHERE consent.changed_at <= EXCLUDED.changed_at`,
    [workspaceId, contactId, channel, group, state, changedAt],
  );
  return r.rowCount === 1;
}

export interface InsertedEvent {
  id: string;
  workspaceId: string;
  /** NULL while the person is not known yet. */
  contactId: string | null;
  name: string;
}

/**
 * Inserts new events (a redelivered id is skipped), resolving the person key (else the other key of
 * the call) to a contact through the identity map. An anonymous key an identify linked to a user
 * before the contact existed is stored as the user's key. Returns the inserted rows.
 */
export async function insertEvents(client: PoolClient, events: NewEvent[]): Promise<InsertedEvent[]> {
  if (!events.length) return [];
  // One JSON document for the whole batch: serialised natively, where per-element array parameters cost the client more.
  const { rows } = await client.query<InsertedEvent>(
    `INSERT INTO segmentation.contact_event (id, workspace_id, contact_id, person_key, name, occurred_at, properties)
     SELECT x.id, x.ws, COALESCE(i.contact_id, a.contact_id), k.pk, x.name, x.at, x.props
     FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, ws uuid, pk text, alt text, name text, at timestamptz, props jsonb)
     LEFT JOIN segmentation.person_alias al ON al.workspace_id = x.ws AND al.alias_key = x.pk
     CROSS JOIN LATERAL (SELECT COALESCE(al.person_key, x.pk) AS pk) k
     LEFT JOIN segmentation.identity i ON i.workspace_id = x.ws AND i.person_key = k.pk
     LEFT JOIN segmentation.identity a ON a.workspace_id = x.ws AND a.person_key = x.alt
     ON CONFLICT (id) DO NOTHING
     RETURNING id, workspace_id AS "workspaceId", contact_id AS "contactId", name`,
    [JSON.stringify(events.map((e) => ({ id: e.id, ws: e.workspaceId, pk: e.personKey, alt: e.altKey ?? null, name: e.name, at: e.occurredAt, props: e.properties })))],
  );
  return rows;
}

export async function contactWorkspace(client: PoolClient, contactId: string): Promise<string | undefined> {
  const { rows } = await client.query<{ workspace_id: string }>(`SELECT workspace_id FROM segmentation.contact WHERE id = $1::uuid`, [contactId]);
  return rows[0]?.workspace_id;
}

export async function setTag(client: PoolClient, workspaceId: string, contactId: string, tag: string, added: boolean): Promise<boolean> {
  const r = added
    ? await client.query(`INSERT INTO segmentation.contact_tag (workspace_id, contact_id, tag) VALUES ($1::uuid, $2::uuid, $3) ON CONFLICT DO NOTHING`, [workspaceId, contactId, tag])
    : await client.query(`DELETE FROM segmentation.contact_tag WHERE contact_id = $1::uuid AND tag = $2`, [contactId, tag]);
  return (r.rowCount ?? 0) > 0;
}

/** Returns the contacts whose list membership actually changed. */
export async function setListMembers(client: PoolClient, workspaceId: string, listId: string, contactIds: string[], added: boolean): Promise<string[]> {
  const { rows } = added
    ? await client.query<{ contact_id: string }>(
        `INSERT INTO segmentation.list_member (workspace_id, contact_id, list_id) SELECT $1::uuid, x, $3 FROM unnest($2::uuid[]) AS x ON CONFLICT DO NOTHING RETURNING contact_id`,
        [workspaceId, contactIds, listId],
      )
    : await client.query<{ contact_id: string }>(`DELETE FROM segmentation.list_member WHERE list_id = $1 AND contact_id = ANY($2::uuid[]) RETURNING contact_id`, [listId, contactIds]);
  return rows.map((r) => r.contact_id);
}

/** Creates, updates or deletes a custom-object record; returns the contacts it was and is linked to. */
export async function upsertObject(
  client: PoolClient,
  r: { workspaceId: string; objectType: string; recordId: string; contactId?: string; data?: Record<string, unknown>; deleted: boolean },
): Promise<string[]> {
  const old = await client.query<{ contact_id: string }>(
    `DELETE FROM segmentation.custom_object WHERE workspace_id = $1::uuid AND object_type = $2 AND object_id = $3 RETURNING contact_id`,
    [r.workspaceId, r.objectType, r.recordId],
  );
  if (!r.deleted && r.contactId)
    await client.query(`INSERT INTO segmentation.custom_object (workspace_id, object_type, object_id, contact_id, properties) VALUES ($1::uuid, $2, $3, $4::uuid, $5::jsonb)`, [
      r.workspaceId, r.objectType, r.recordId, r.contactId, JSON.stringify(r.data ?? {}),
    ]);
  return [...new Set([...old.rows.map((x) => x.contact_id), ...(r.contactId ? [r.contactId] : [])])];
}

export interface NewEngagement {
  id: string;
  workspaceId: string;
  contactId: string;
  action: 'received' | 'opened' | 'clicked';
  channel: string;
  templateId: string;
  occurredAt: string;
}

/** Inserts engagement rows (redelivered ids skipped); returns the contacts of new rows. */
export async function insertEngagement(client: PoolClient, rows: NewEngagement[]): Promise<{ workspaceId: string; contactId: string }[]> {
  if (!rows.length) return [];
  const r = await client.query<{ workspace_id: string; contact_id: string }>(
    `INSERT INTO segmentation.message_engagement (id, workspace_id, contact_id, action, channel, template_id, occurred_at)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::timestamptz[]) ON CONFLICT (id) DO NOTHING
     RETURNING workspace_id, contact_id`,
    [rows.map((x) => x.id), rows.map((x) => x.workspaceId), rows.map((x) => x.contactId), rows.map((x) => x.action), rows.map((x) => x.channel), rows.map((x) => x.templateId), rows.map((x) => x.occurredAt)],
  );
  return r.rows.map((x) => ({ workspaceId: x.workspace_id, contactId: x.contact_id }));
}
