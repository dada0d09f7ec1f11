import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@tessera/service-kit';

export interface RawFact {
  id: string;
  subject: string;
  contactId: string | null;
  occurredAt: Date;
  data: unknown;
}

const PAGE = 1000;

@Injectable()
export class RawExportRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Facts of the range in (occurred_at, id) order, one keyset page at a time: constant memory, no long transaction. */
  async *facts(workspaceId: string, from: Date, to: Date, subject?: string): AsyncGenerator<RawFact[]> {
    let after: { at: Date; id: string } | undefined;
    for (;;) {
      const { rows } = await this.pool.query<RawFact>(
        `SELECT id, subject, contact_id AS "contactId", occurred_at AS "occurredAt", data FROM fact
         WHERE workspace_id = $1 AND occurred_at >= $2 AND occurred_at < $3 AND ($4::text IS NULL OR subject = $4)
           AND ($5::timestamptz IS NULL OR (occurred_at, id) > ($5::timestamptz, $6::uuid))
         ORDER BY occurred_at, id LIMIT ${PAGE}`,
        [workspaceId, from, to, subject ?? null, after?.at ?? null, after?.id ?? null],
      );
      if (rows.length) yield rows;
      if (rows.length < PAGE) return;
      const last = rows.at(-1)!;
      after = { at: last.occurredAt, id: last.id };
    }
  }
}
