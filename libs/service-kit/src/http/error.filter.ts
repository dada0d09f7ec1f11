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
};

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
    if (body.statusCode >= 500) this.logger.error({ err: exception }, 'unhandled error');
    void reply.status(body.statusCode).send(body);
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
    return { statusCode: 500, error: 'Internal Server Error', message: 'Internal error' };
  }
}
