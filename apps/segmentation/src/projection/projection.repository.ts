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
  return (await firstDeliveries(client, [eventId])).size === 1;
}

/** Records event ids; returns those applied for the first time (at-least-once delivery), lower-cased. */
export async function firstDeliveries(client: PoolClient, eventIds: string[]): Promise<Set<string>> {
  const { rows } = await client.query<{ id: string }>(`INSERT INTO segmentation.processed_event (id) SELECT DISTINCT unnest($1::uuid[]) ON CONFLICT DO NOTHING RETURNING id`, [eventIds]);
  return new Set(rows.map((r) => r.id));
}

/** What one contact upsert did, for the re-evaluation that follows. */
export interface UpsertedContact {
  workspaceId: string;
  contactId: string;
  /** The contact was not in the projection before. */
  created: boolean;
  /** Attribute names whose value differs from before. */
  changed: string[];
  /** Names of the unresolved events its new externalId claimed. */
  claimedEvents: string[];
}

/**
 * Applies contact upserts in their order (a later one sees the earlier ones; `unset` removes names;
 * `fill` only adds names the contact lacks and no update removed) with a fixed number of statements, whatever their
 * number: one read, one multi-row write, one identity claim. Each new externalId (re)points the person key `u:<externalId>` at its contact, and
 * the key's unresolved events are claimed. The caller holds the contacts' locks.
 */
export async function upsertContacts(client: PoolClient, changes: (ContactSnapshot & { unset: string[]; fill?: boolean })[]): Promise<UpsertedContact[]> {
  const ids = [...new Set(changes.map((c) => c.contactId.toLowerCase()))].sort();
  const { rows } = await client.query<{ id: string; attrs: Record<string, unknown>; removed: string[] | null }>(
    `SELECT id, attrs, removed FROM segmentation.contact WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    [ids],
  );
  const before = new Map(rows.map((r) => [r.id, r]));
  const after = new Map<string, { workspaceId: string; attrs: Record<string, unknown>; removed: Set<string> }>();
  const claims: { workspaceId: string; personKey: string; contactId: string }[] = [];
  for (const c of changes) {
    const id = c.contactId.toLowerCase();
    const prior = after.get(id) ?? { attrs: before.get(id)?.attrs ?? {}, removed: new Set(before.get(id)?.removed ?? []) };
    const current = prior.attrs;
    const removed = new Set(prior.removed);
    let next: Record<string, unknown>;
    if (c.fill) {
      const filled = { ...c.attrs };
      for (const name of removed) delete filled[name];
      next = { ...filled, ...current };
    } else {
      next = { ...current, ...c.attrs };
      for (const name of Object.keys(c.attrs)) removed.delete(name);
      for (const name of c.unset) removed.add(name);
    }
    for (const name of c.unset) delete next[name];
    after.set(id, { workspaceId: c.workspaceId, attrs: next, removed });
    if (typeof next.externalId === 'string' && current.externalId !== next.externalId) claims.push({ workspaceId: c.workspaceId, personKey: `u:${next.externalId}`, contactId: id });
  }
  const written = [...after].map(([id, { workspaceId, attrs, removed }]) => ({
    id,
    ws: workspaceId,
    attrs,
    removed: [...removed],
    tz: validTimezone(attrs.timezone),
    ext: typeof attrs.externalId === 'string' ? attrs.externalId : null,
  }));
  await client.query(
    `INSERT INTO segmentation.contact (id, workspace_id, attrs, removed, timezone, external_id, updated_at)
     SELECT x.id, x.ws, x.attrs, ARRAY(SELECT jsonb_array_elements_text(x.removed)), x.tz, x.ext, now()
     FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, ws uuid, attrs jsonb, removed jsonb, tz text, ext text)
     ON CONFLICT (id) DO UPDATE SET attrs = EXCLUDED.attrs, removed = EXCLUDED.removed, timezone = EXCLUDED.timezone, external_id = EXCLUDED.external_id, updated_at = now()`,
    [JSON.stringify(written)],
  );
  const claimed = await claimPersonKeys(client, claims);
  return written.map(({ id, ws, attrs }) => {
    const old = before.get(id)?.attrs ?? {};
    const changed = [...new Set([...Object.keys(old), ...Object.keys(attrs)])].filter((k) => JSON.stringify(old[k]) !== JSON.stringify(attrs[k]));
    return { workspaceId: ws, contactId: id, created: !before.has(id), changed, claimedEvents: [...(claimed.get(id) ?? [])] };
  });
}

/**
 * Points person keys at contacts and hands each key's unresolved events to its contact; returns the
 * claimed event names by contact. One statement when the keys are distinct (the usual case); in
 * order, one at a time, when a key changes hands within the batch, so the first claimant keeps the
 * events it claimed and the last one keeps the key.
 */
async function claimPersonKeys(client: PoolClient, claims: { workspaceId: string; personKey: string; contactId: string }[]): Promise<Map<string, Set<string>>> {
  const byContact = new Map<string, Set<string>>();
  const distinct = new Set(claims.map((c) => `${c.workspaceId}|${c.personKey}`)).size === claims.length;
  for (const group of distinct ? [claims] : claims.map((c) => [c])) {
    if (!group.length) continue;
    const { rows } = await client.query<{ contact_id: string; name: string }>(
      `WITH x AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[]) AS x(ws, pk, contact_id)),
       pointed AS (INSERT INTO segmentation.identity (workspace_id, person_key, contact_id) SELECT ws, pk, contact_id FROM x
         ON CONFLICT (workspace_id, person_key) DO UPDATE SET contact_id = EXCLUDED.contact_id)
       UPDATE segmentation.contact_event e SET contact_id = x.contact_id FROM x
       WHERE e.workspace_id = x.ws AND e.person_key = x.pk AND e.contact_id IS NULL
       RETURNING x.contact_id, e.name`,
      [group.map((c) => c.workspaceId), group.map((c) => c.personKey), group.map((c) => c.contactId)],
    );
    for (const r of rows) byContact.set(r.contact_id, (byContact.get(r.contact_id) ?? new Set()).add(r.name));
  }
  return byContact;
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

/** Of these contact ids, those erased (lower case): events about them are dropped, so nothing of them comes back. */
export async function erasedAmong(client: PoolClient, contactIds: string[]): Promise<Set<string>> {
  if (!contactIds.length) return new Set();
  const { rows } = await client.query<{ contact_id: string }>(`SELECT contact_id FROM segmentation.erased_contact WHERE contact_id = ANY($1::uuid[])`, [contactIds]);
  return new Set(rows.map((r) => r.contact_id));
}

/** Erasure: every row about the contact goes, including its events; its id is remembered (erasedAmong). */
export async function eraseContact(client: PoolClient, workspaceId: string, contactId: string): Promise<void> {
  await client.query(`INSERT INTO segmentation.erased_contact (contact_id, workspace_id) VALUES ($1::uuid, $2::uuid) ON CONFLICT DO NOTHING`, [contactId, workspaceId]);
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
