export {
  DEFAULT_DATABASE_URL,
  assertSchemaName,
  createPool,
  normalizeDatabaseUrl,
  schemaConnectionConfig,
  type PoolOptions,
} from './connection';
export {
  PRISMA_ADVISORY_LOCK_KEY,
  applyMigrations,
  migrationChecksum,
  pendingMigrations,
  readMigrations,
  type LocalMigration,
  type MigrationLogEntry,
  type MigrationOptions,
} from './migrations';
export { runMigrationsCli } from './migrate-cli';
export { prismaClientOptions } from './prisma-client';
export { diffMigrationsToSchema, type DriftOptions } from './migrations-drift';
export { lockKeys, withTransaction } from './transaction';
export { prepared } from './prepared';
