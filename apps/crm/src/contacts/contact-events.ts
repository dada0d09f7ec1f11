import { outboxRow, type OutboxRow } from '@tessera/bus';
import { CONTACT_CREATED_V1, CONTACT_ERASED_V1, CONTACT_ERASED_V2, CONTACT_MERGED_V1, CONTACT_UPDATED_V1, type ContactCreatedV1, type ContactUpdatedV1 } from '@tessera/contracts';
import { v7 as uuidv7 } from 'uuid';
import type { ContactRow } from './contact-store.repository';
import type { IdentityHashes } from './erasure.repository';

export const STANDARD_FIELDS = ['externalId', 'email', 'phone', 'timezone', 'locale'] as const;
export type StandardField = (typeof STANDARD_FIELDS)[number];

/** contact.created's payload (ContactStore.copyCreated reuses it for a batch's envelopes). */
export function createdData(c: ContactRow): ContactCreatedV1 {
  return {
    contactId: c.id,
    ...(c.externalId ? { externalId: c.externalId } : {}),
    ...(c.email ? { email: c.email } : {}),
    ...(c.phone ? { phone: c.phone } : {}),
    attributes: c.attributes,
    createdAt: c.createdAt.toISOString(),
  };
}

export function createdEvent(c: ContactRow): OutboxRow {
  return outboxRow('crm', CONTACT_CREATED_V1.subject, createdData(c), { workspaceId: c.workspaceId, occurredAt: c.createdAt });
}

/** The thin update event: only what differs between `before` and `after`; undefined when nothing did. */
export function updatedEvent(before: ContactRow, after: ContactRow): OutboxRow | undefined {
  const data = updatedData(before, after);
  return data && outboxRow('crm', CONTACT_UPDATED_V1.subject, data, { workspaceId: after.workspaceId, occurredAt: after.updatedAt });
}

/** contact.updated's payload: only what differs between `before` and `after`; undefined when nothing did. */
export function updatedData(before: ContactRow, after: ContactRow): ContactUpdatedV1 | undefined {
  const fields: Record<string, unknown> = {};
  const attributes: Record<string, unknown> = {};
  const unset: string[] = [];
  for (const f of STANDARD_FIELDS) {
    if (before[f] === after[f]) continue;
    if (after[f] === null) unset.push(f);
    else fields[f] = after[f];
  }
  for (const [k, v] of Object.entries(after.attributes)) if (!sameValue(before.attributes[k], v)) attributes[k] = v;
  for (const k of Object.keys(before.attributes)) if (!(k in after.attributes)) unset.push(`attributes.${k}`);
  if (!Object.keys(fields).length && !Object.keys(attributes).length && !unset.length) return undefined;
  return { contactId: after.id, fields, attributes, unset, version: after.version, updatedAt: after.updatedAt.toISOString() };
}

/** Equal attribute values: primitives by identity, lists and objects by their JSON. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Another event of `first`'s subject, workspace and trace context, with its own id, time and
 * payload: a bus batch's hundreds of events of one kind pay outboxRow's contract check and trace
 * lookup once, through `first` (their payloads come from the same builders, createdData and
 * updatedData, over values already normalised and schema-checked).
 */
export function sameKindEvent(first: OutboxRow, data: ContactCreatedV1 | ContactUpdatedV1, occurredAt: Date): OutboxRow {
  const id = uuidv7();
  return { id, subject: first.subject, envelope: { ...first.envelope, id, occurredAt: occurredAt.toISOString(), partitionKey: data.contactId, data }, headers: first.headers };
}

export function mergedEvent(workspaceId: string, winnerId: string, loserId: string, at: Date): OutboxRow {
  return outboxRow('crm', CONTACT_MERGED_V1.subject, { contactId: winnerId, mergedContactId: loserId, mergedAt: at.toISOString() }, { workspaceId, occurredAt: at });
}

/** The erasure in both versions (v1 until every consumer reads v2; see STYLE.md on contracts). */
export function erasedEvents(workspaceId: string, contactId: string, at: Date, hashes: IdentityHashes): OutboxRow[] {
  const erasedAt = at.toISOString();
  return [
    outboxRow('crm', CONTACT_ERASED_V1.subject, { contactId, erasedAt }, { workspaceId, occurredAt: at }),
    outboxRow('crm', CONTACT_ERASED_V2.subject, { contactId, erasedAt, ...hashes }, { workspaceId, occurredAt: at }),
  ];
}

/** The row after a change: version bumped, updated now. */
export function bump(row: ContactRow, changes: Partial<ContactRow>, at = new Date()): ContactRow {
  return { ...row, ...changes, version: String(BigInt(row.version) + 1n), updatedAt: at };
}
