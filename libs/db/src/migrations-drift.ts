import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { schemaConnectionConfig } from './connection';

// Drift check without Prisma's native schema engine (not downloadable here): the same engine as
// WebAssembly (shipped in the `prisma` package) driven through @prisma/adapter-pg. Dev/CI only:
// its packages are devDependencies, loaded lazily so production never needs them.

export interface DriftOptions {
  /** The service's schema.prisma; the first entry of its datasource `schemas` is the service schema. */
  schemaPath: string;
  migrationsDir: string;
  /** An existing scratch database the engine may wipe (Prisma's shadow database). */
  shadowDatabaseUrl: string;
}

type PgAdapter = Awaited<ReturnType<PrismaPg['connect']>>;

/**
 * The SQL that would bring the migrations folder to the datamodel: '' when they agree.
 * Hand-written objects Prisma does not model (functions, triggers) are invisible to it.
 */
export async function diffMigrationsToSchema({ schemaPath, migrationsDir, shadowDatabaseUrl }: DriftOptions): Promise<string> {
  const datamodel = await readFile(schemaPath, 'utf8');
  const schema = /schemas\s*=\s*\[\s*"([^"]+)"/.exec(datamodel)?.[1] ?? 'public';
  const engine = await loadSchemaEngine(datamodel, schemaPath, shadowAdapter(shadowDatabaseUrl, schema));
  try {
    const result = await engine.diff({
      from: { tag: 'migrations', ...(await migrationsList(migrationsDir)) },
      to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: datamodel }] },
      script: true,
      exitCode: true, // 2 when there is a difference, 0 when in sync
      filters: { externalTables: [], externalEnums: [] },
    });
    return result.exitCode === 0 ? '' : (result.stdout ?? '');
  } finally {
    engine.free();
  }
}

/** Both the engine's "main" and shadow connections go to the one scratch database we were given. */
function shadowAdapter(url: string, schema: string): SqlMigrationAwareDriverAdapterFactory {
  // search_path and the adapter's schema both name the service schema, as Prisma does with `?schema=`.
  const factory = new PrismaPg(schemaConnectionConfig(url, schema), { schema });
  const connect = async (): Promise<PgAdapter> => patch(await factory.connect());
  // Not factory.connectToShadowDb(): adapter-pg 7.10 would create its shadow next to a main database it then drops early.
  return { provider: factory.provider, adapterName: factory.adapterName, connect, connectToShadowDb: connect };
}

/** Two gaps in adapter-pg 7.10 that only the schema engine hits. */
function patch(adapter: PgAdapter): PgAdapter {
  // 1. executeScript splits on ';', which breaks function bodies and comments: send the whole
  //    script in one simple-protocol query, as the native engine does.
  adapter.executeScript = async (script: string): Promise<void> => {
    await adapter.underlyingDriver().query(script);
  };
  // 2. Catalogue columns of type "char" (oid 18) are unsupported: report them as text (oid 25).
  const io = adapter as unknown as { performIO: (query: unknown) => Promise<{ fields: { dataTypeID: number }[] }> };
  const performIO = io.performIO.bind(adapter);
  io.performIO = async (query) => {
    const result = await performIO(query);
    for (const field of result.fields) if (field.dataTypeID === 18) field.dataTypeID = 25;
    return result;
  };
  return adapter;
}

async function migrationsList(migrationsDir: string): Promise<{
  baseDir: string;
  lockfile: { path: string; content: string | null };
  shadowDbInitScript: string;
  migrationDirectories: { path: string; migrationFile: { path: string; content: { tag: 'ok'; value: string } } }[];
}> {
  const names = (await readdir(migrationsDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const lockPath = join(migrationsDir, 'migration_lock.toml');
  return {
    baseDir: migrationsDir,
    lockfile: { path: lockPath, content: await readFile(lockPath, 'utf8').catch(() => null) },
    shadowDbInitScript: '',
    migrationDirectories: await Promise.all(
      names.map(async (name) => ({
        path: join(migrationsDir, name),
        migrationFile: { path: 'migration.sql', content: { tag: 'ok' as const, value: await readFile(join(migrationsDir, name, 'migration.sql'), 'utf8') } },
      })),
    ),
  };
}

// lib "ES2022" has no WebAssembly types (they come with "DOM"); this is the one call we need.
declare const WebAssembly: {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

// The glue is ESM: a dynamic import works from CommonJS (and under vitest), and types it too.
const importGlue = () => import('@prisma/schema-engine-wasm/schema_engine_bg');
type Glue = Awaited<ReturnType<typeof importGlue>>;
let glueLoaded: Promise<Glue> | undefined;

/** The glue module holds one wasm instance, so load it once per process. */
function loadGlue(): Promise<Glue> {
  glueLoaded ??= (async () => {
    const glue = await importGlue();
    // The wasm the `prisma` CLI itself ships: the engine that matches our Prisma version exactly.
    const wasmPath = join(dirname(require.resolve('prisma/package.json')), 'build', 'schema_engine_bg.wasm');
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports['__wbindgen_start'] as (() => void) | undefined)?.();
    return glue;
  })();
  return glueLoaded;
}

// Return type inferred (not exported): naming the ESM glue's types from CommonJS needs import attributes.
async function loadSchemaEngine(datamodel: string, schemaPath: string, adapter: SqlMigrationAwareDriverAdapterFactory) {
  const glue = await loadGlue();
  const { bindMigrationAwareSqlAdapterFactory } = await import('@prisma/driver-adapter-utils');
  const onLog = (): void => undefined; // engine tracing; silence it
  return glue.SchemaEngine.new({ datamodels: [[schemaPath, datamodel]] }, onLog, bindMigrationAwareSqlAdapterFactory(adapter));
}
