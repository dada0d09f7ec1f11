import type { OutboxRow } from '@tessera/bus';

/** An outbox row in the shape Prisma's Json columns accept. */
export function asOutboxData(row: OutboxRow): { id: string; subject: string; envelope: object; headers: object } {
  return { id: row.id, subject: row.subject, envelope: row.envelope as unknown as object, headers: row.headers };
}
