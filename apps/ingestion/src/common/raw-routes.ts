import { Logger } from '@nestjs/common';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequest } from '../tracking/request-body';

const logger = new Logger('ingestion-http');

/**
 * Registers routes in their own Fastify scope whose every body arrives as the raw Buffer (any
 * content type): tracking decodes gzip/text itself, webhooks verify signatures over the exact
 * bytes. The scope's parsers and error handler do not leak into Nest's routes.
 */
export function registerRawBodyScope(fastify: FastifyInstance, bodyLimit: number, routes: (scope: FastifyInstance) => void): void {
  void fastify.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => done(null, body));
    scope.setErrorHandler((error: FastifyError, req, reply) => sendError(reply, error, req));
    routes(scope);
  });
}

/** Client mistakes get their 4xx and a message; anything else is our failure: 503, so senders retry. */
export async function sendError(reply: FastifyReply, error: unknown, req: FastifyRequest): Promise<void> {
  if (error instanceof BadRequest) {
    await reply.code(error.status).send({ success: false, statusCode: error.status, message: error.message, ...error.extra });
    return;
  }
  const status = (error as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = (error as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'the request body is too large' : (error as Error).message;
    await reply.code(status).send({ success: false, statusCode: status, message });
    return;
  }
  logger.error({ err: error, url: req.url.split('?')[0] }, 'ingestion request failed');
  await reply.code(503).header('retry-after', '1').send({ success: false, statusCode: 503, message: 'temporarily unable to store events; retry' });
}
