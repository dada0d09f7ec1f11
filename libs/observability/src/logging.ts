import pino, { type Logger, type LoggerOptions } from 'pino';
import { activeTraceIds } from './tracing';

/**
 * Fields never written to logs. Personal data and credentials are redacted centrally here, at the
 * top level and up to three levels deep, so no call site has to remember.
 */
const SECRET_FIELDS = ['authorization', 'cookie', 'set-cookie', 'x-api-key', 'password', 'secret', 'token', 'apiKey', 'api_key', 'writeKey', 'adminKey', 'signingSecret', 'keyHash'];
const PERSONAL_FIELDS = ['email', 'phone', 'firstName', 'lastName', 'name', 'address', 'ip', 'traits', 'attributes'];

function redactPaths(): string[] {
  const fields = [...SECRET_FIELDS, ...PERSONAL_FIELDS].map((f) => (/^[A-Za-z_$][\w$]*$/.test(f) ? f : `["${f}"]`));
  const paths: string[] = [];
  for (const f of fields) {
    const dot = f.startsWith('[') ? f : `.${f}`;
    paths.push(f.startsWith('[') ? `*${f}` : f, `*${dot}`, `*.*${dot}`, `*.*.*${dot}`);
  }
  paths.push('req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'DATABASE_URL');
  return paths;
}

export const REDACT_PATHS = redactPaths();

export interface LoggerConfig {
  service: string;
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
}

/** JSON logs: one line per entry, carrying the service name and the active trace and span ids. */
export function createLogger({ service, level = 'info', destination }: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => activeTraceIds(),
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
