import { PrismaPg } from '@prisma/adapter-pg';
import { schemaConnectionConfig } from './connection';

/**
 * Prisma's interactive transactions wait at most 2 s for a connection and run at most 5 s by
 * default. A busy service sharing two cores with Postgres (or Postgres restarting) exceeds both
 * without anything being wrong, so we wait longer before giving up; HTTP callers then get a 503.
 */
const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 20_000 } as const;

/**
 * What every service passes to its generated Prisma 7 client: the pg adapter bound to the
 * service's schema, and transaction limits that tolerate a loaded machine.
 *   super(prismaClientOptions(config.DATABASE_URL, 'crm'));
 */
export function prismaClientOptions(databaseUrl: string, schema: string): { adapter: PrismaPg; transactionOptions: typeof TRANSACTION_OPTIONS } {
  // search_path too (in schemaConnectionConfig), so `$queryRaw` with unqualified names sees the schema.
  return { adapter: new PrismaPg(schemaConnectionConfig(databaseUrl, schema), { schema }), transactionOptions: TRANSACTION_OPTIONS };
}
