import { DEFAULT_DATABASE_URL } from './connection';
import { applyMigrations } from './migrations';

/**
 * The body of each service's `src/migrate.ts` (run by a Kubernetes Job before new pods roll out):
 *   void runMigrationsCli({ schema: 'analytics', migrationsDir: join(__dirname, '../prisma/migrations') });
 * One JSON line per applied migration on stdout; on failure a JSON error on stderr and exit code 1.
 */
export async function runMigrationsCli({ schema, migrationsDir }: { schema: string; migrationsDir: string }): Promise<void> {
  const databaseUrl = process.env['DATABASE_URL'] || DEFAULT_DATABASE_URL;
  // pino's shape (numeric level, epoch-ms time, msg), so log pipelines treat it like service logs.
  const line = (level: 30 | 50, entry: object): string => JSON.stringify({ level, time: Date.now(), ...entry });
  try {
    const { applied } = await applyMigrations({
      databaseUrl,
      schema,
      migrationsDir,
      log: (entry) => console.log(line(30, entry)),
    });
    console.log(line(30, { msg: 'migrations up to date', schema, applied: applied.length }));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(line(50, { msg: 'migration failed', schema, err: { message } }));
    // exitCode, not exit(): lets stdout/stderr flush; the pg connection is already closed.
    process.exitCode = 1;
  }
}
