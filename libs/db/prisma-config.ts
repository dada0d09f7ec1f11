// The Prisma CLI configuration every service shares (`apps/<svc>/prisma.config.ts` is one line).
// It lives outside src/ because only the Prisma CLI loads it, before anything is built.
import { defineConfig, type PrismaConfig } from 'prisma/config';

// Offline `prisma generate`: the CLI wants a schema-engine binary it never runs for generate
// (any existing file will do; node's own path exists on every platform) and phones home
// unless checkpoints are off. Set here so the bare `prisma generate` script needs no env prefix.
process.env['PRISMA_SCHEMA_ENGINE_BINARY'] ??= process.execPath;
process.env['CHECKPOINT_DISABLE'] ??= '1';

export function servicePrismaConfig(schema: string): PrismaConfig {
  // On a machine that can run `prisma migrate deploy|status`, point it at the same
  // `_prisma_migrations` table @tessera/db's runner uses: the one inside the service schema.
  const databaseUrl = process.env['DATABASE_URL'];
  const url = databaseUrl ? withSchema(databaseUrl, schema) : undefined;
  return defineConfig({
    schema: 'prisma/schema.prisma',
    migrations: { path: 'prisma/migrations' },
    ...(url ? { datasource: { url } } : {}),
  });
}

function withSchema(raw: string, name: string): string {
  const parsed = new URL(raw);
  parsed.searchParams.set('schema', name);
  return parsed.toString();
}
