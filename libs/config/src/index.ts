import 'reflect-metadata';
import { plainToInstance, Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min, validateSync, type ValidationError } from 'class-validator';

const SENSITIVE = Symbol('sensitive');

/** Marks a config field as secret: it is never printed, not even in the start-up error. */
export function Sensitive(): PropertyDecorator {
  return (target, key) => {
    // Copy, so a subclass never adds its fields to its parent's set.
    const fields = new Set<string | symbol>(Reflect.getMetadata(SENSITIVE, target) ?? []);
    fields.add(key);
    Reflect.defineMetadata(SENSITIVE, fields, target);
  };
}

export function isSensitive(target: object, key: string): boolean {
  const fields: Set<string | symbol> | undefined = Reflect.getMetadata(SENSITIVE, target);
  return fields?.has(key) ?? false;
}

/** Parses "true"/"1"/"yes" the way people write them in env files. */
export const ToBoolean = (): PropertyDecorator =>
  Transform(({ value }) => (typeof value === 'string' ? ['true', '1', 'yes', 'on'].includes(value.toLowerCase()) : value));

/** Configuration every service shares. A service extends it with its own fields. */
export class BaseConfig {
  /** HTTP port; 0 picks a free one (tests). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT!: number;

  @IsString()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// or postgresql:// URL' })
  @Sensitive()
  DATABASE_URL: string = 'postgresql://postgres@127.0.0.1:5432/tessera';

  @IsString()
  @Matches(/^(nats|tls):\/\/[^,]+(,(nats|tls):\/\/[^,]+)*$/, { message: 'NATS_URL must be one or more comma-separated nats:// URLs' })
  NATS_URL: string = 'nats://127.0.0.1:4222';

  /** Prefix for every subject and stream name: lets several installations (or test runs) share one NATS. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]*$/, { message: 'BUS_NAMESPACE may hold only letters, digits, _ and -' })
  BUS_NAMESPACE: string = '';

  /** Replicas of each JetStream stream: 1 on a single NATS server, 3 on a clustered one. */
  @Type(() => Number)
  @IsIn([1, 3, 5])
  BUS_STREAM_REPLICAS: number = 1;

  /**
   * Connections in the service's own pg pool (outbox relay, LISTEN, raw SQL), besides Prisma's 10.
   * Six services share Postgres's default max_connections of 100: raise it there before raising this.
   */
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(100)
  PG_POOL_MAX: number = 5;

  @IsIn(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
  LOG_LEVEL: string = 'info';

  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  /** Apply pending migrations at start-up. Kubernetes runs them in a pre-install/pre-upgrade Job instead. */
  @ToBoolean()
  @IsBoolean()
  MIGRATE_ON_START: boolean = true;

  /** Admin key of the default workspace, used only when the database is empty. */
  @IsOptional()
  @IsString()
  @Matches(/^\S{24,}$/, { message: 'TESSERA_ADMIN_KEY must be at least 24 characters without spaces' })
  @Sensitive()
  TESSERA_ADMIN_KEY?: string;

  /** Write key of the default ingestion source, used only when the database is empty. */
  @IsOptional()
  @IsString()
  @Matches(/^\S{16,}$/, { message: 'TESSERA_WRITE_KEY must be at least 16 characters without spaces' })
  @Sensitive()
  TESSERA_WRITE_KEY?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function describe(errors: ValidationError[], target: object): string[] {
  return errors.map((e) => {
    const shown = isSensitive(target, e.property) ? '(hidden)' : JSON.stringify(e.value);
    return `${e.property}=${shown}: ${Object.values(e.constraints ?? {}).join('; ')}`;
  });
}

/**
 * Reads and validates configuration from the environment. Throws a ConfigError naming every bad
 * variable, so a service refuses to start with a message the operator can act on.
 */
export function loadConfig<T extends BaseConfig>(cls: new () => T, env: NodeJS.ProcessEnv = process.env, defaults: Partial<Record<keyof T, unknown>> = {}): T {
  const raw: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== '') raw[key] = value;
  const config = plainToInstance(cls, raw, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: false });
  if (errors.length) throw new ConfigError(describe(errors, config));
  return config;
}

/** Exits the process with the config error printed plainly (used by every service's main.ts). */
export function loadConfigOrExit<T extends BaseConfig>(cls: new () => T, defaults: Partial<Record<keyof T, unknown>> = {}): T {
  try {
    return loadConfig(cls, process.env, defaults);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
