import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  [key: string]: unknown;
}

/** Fastify's own errors for bad requests, mapped to what a caller should see. */
const FASTIFY_CODES: Record<string, number> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 415,
  FST_ERR_CTP_BODY_TOO_LARGE: 413,
  FST_ERR_CTP_EMPTY_JSON_BODY: 400,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 400,
  FST_ERR_CTP_INVALID_JSON_BODY: 400,
  FST_ERR_VALIDATION: 400,
};

/** Prisma's known request errors that stem from the caller's input. */
const PRISMA_CODES: Record<string, [number, string]> = {
  P2002: [409, 'A record with the same unique value already exists'],
  P2025: [404, 'Not found'],
  P2003: [409, 'A related record does not exist'],
  P2000: [400, 'A value is too long for its field'],
  P2007: [400, 'Invalid input value'],
  P2020: [400, 'A value is out of range'],
};

/**
 * Postgres data exceptions (SQLSTATE class 22: a NUL byte in text, a malformed uuid or number) that
 * Prisma passes through as a generic database error: the value came from the caller.
 */
function isDataException(error: { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } }): boolean {
  const code = error.meta?.driverAdapterError?.cause?.originalCode;
  return typeof code === 'string' && code.startsWith('22');
}

/**
 * Errors that mean "the database is busy or away for a moment", not "this request is wrong": the
 * pool or a transaction could not start in time, the server restarts or refuses connections.
 * They answer 503 with Retry-After, so clients (the Segment SDKs among them) retry.
 */
const TRANSIENT_CODES = new Set(['P2024', 'P2028', 'P1001', 'P1002', 'P1017', '57P01', '57P02', '57P03', '53300', 'ECONNREFUSED', 'ECONNRESET']);
const TRANSIENT_MESSAGES = /timeout exceeded when trying to connect|Connection terminated|Unable to start a transaction in the given time/i;

export function isTransientError(error: { code?: string; message?: string; cause?: unknown }): boolean {
  for (let e: typeof error | undefined = error, depth = 0; e && depth < 4; e = e.cause as typeof error | undefined, depth++) {
    if ((e.code && TRANSIENT_CODES.has(e.code)) || (e.message && TRANSIENT_MESSAGES.test(e.message))) return true;
  }
  return false;
}

/**
 * The one place errors become HTTP answers. Bad input is a 4xx with a clear message; anything
 * else is a 500 that reveals nothing and is logged with its stack.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const body = this.toBody(exception);
    if (body.statusCode === 503) {
      this.logger.warn({ err: exception }, 'database unavailable; answered 503');
      void reply.header('retry-after', '1');
    } else if (body.statusCode >= 500) this.logger.error({ err: exception }, 'unhandled error');
    // JSON even where the route had declared another type (a CSV download that failed validation).
    void reply.status(body.statusCode).type('application/json; charset=utf-8').send(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof HttpException) {
      const response = exception.getResponse();
      const status = exception.getStatus();
      if (typeof response === 'object') return { statusCode: status, error: HttpStatus[status] ?? 'Error', ...(response as object), message: (response as { message?: string }).message ?? exception.message } as ErrorBody;
      return { statusCode: status, error: HttpStatus[status] ?? 'Error', message: response };
    }
    const error = exception as { code?: string; statusCode?: number; message?: string; meta?: { target?: unknown } };
    const fastifyStatus = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (fastifyStatus) return { statusCode: fastifyStatus, error: HttpStatus[fastifyStatus] ?? 'Error', message: error.message ?? 'Bad request' };
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return { statusCode: error.statusCode, error: HttpStatus[error.statusCode] ?? 'Error', message: error.message ?? 'Bad request' };
    }
    const prisma = error.code ? PRISMA_CODES[error.code] : undefined;
    if (prisma) return { statusCode: prisma[0], error: HttpStatus[prisma[0]] ?? 'Error', message: prisma[1], ...(error.meta?.target ? { fields: error.meta.target } : {}) };
    if (isDataException(error as never)) return { statusCode: 400, error: 'Bad Request', message: 'Invalid input value' };
    if (isTransientError(error)) return { statusCode: 503, error: 'Service Unavailable', message: 'Temporarily unavailable; retry shortly' };
    return { statusCode: 500, error: 'Internal Server Error', message: 'Internal error' };
  }
}
