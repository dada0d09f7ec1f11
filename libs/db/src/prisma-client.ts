import { PrismaPg } from '@prisma/adapter-pg';
import { schemaConnectionConfig } from './connection';

export interface PrismaClientOptions {
  databaseUrl: string;
  schema: string;
  /** Connections in the adapter's pg pool (pg's default is 10). */
  poolMax?: number;
}

/**
 * Builds a service's generated Prisma 7 client over @prisma/adapter-pg, bound to its schema.
 * `T` is inferred from the generated class, so the result keeps every model delegate:
 *   const prisma = createPrismaClient(PrismaClient, { databaseUrl, schema: 'analytics' });
 */
export function createPrismaClient<T>(
  PrismaClientClass: new (options: { adapter: PrismaPg }) => T,
  { databaseUrl, schema, poolMax }: PrismaClientOptions,
): T {
  // search_path too, so `$queryRaw` with unqualified table names sees the service schema.
  const config = { ...schemaConnectionConfig(databaseUrl, schema), ...(poolMax === undefined ? {} : { max: poolMax }) };
  return new PrismaClientClass({ adapter: new PrismaPg(config, { schema }) });
}
