import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { eventsRejected } from '../common/metrics';
import { SourceCacheService } from '../sources/source-cache.service';
import type { SourceRecord } from '../sources/source';
import { ArchiveBehind, IngestService, RateLimited, type IngestItem } from './ingest.service';
import { BadRequest, decodeJsonBody, writeKeyFromAuthorization } from './request-body';
import { MAX_BATCH_BYTES, MAX_EVENT_BYTES, normaliseBatch, type ItemError, type NormalisedCall, type SegmentType } from './segment-call';
import { registerRawBodyScope, sendError } from '../common/raw-routes';

/** Segment's paths: full names for server SDKs, one letter for the browser's analytics.js. */
const ROUTES: { paths: string[]; type?: SegmentType }[] = [
  { paths: ['/v1/identify', '/v1/i'], type: 'identify' },
  { paths: ['/v1/track', '/v1/t'], type: 'track' },
  { paths: ['/v1/page', '/v1/p'], type: 'page' },
  { paths: ['/v1/screen', '/v1/s'], type: 'screen' },
  { paths: ['/v1/group', '/v1/g'], type: 'group' },
  { paths: ['/v1/alias', '/v1/a'], type: 'alias' },
  { paths: ['/v1/batch', '/v1/b', '/v1/import'] },
];

/** Every tracking path: too hot to log each request (errors are still logged where they happen). */
export const TRACKING_PATHS = ROUTES.flatMap((r) => r.paths);

/** Body answered to every accepted request; `errors` lists the items that were not kept. */
export interface TrackingResponse {
  success: true;
  errors?: ItemError[];
}

function toItem(call: NormalisedCall): IngestItem {
  return { subject: call.subject, data: call.data, messageId: call.messageId, occurredAt: (call.data as { timestamp: string }).timestamp };
}

/**
 * The Segment HTTP Tracking API as plain Fastify routes, not Nest controllers: the hot path gets
 * a raw-Buffer body (gzip and text/plain handled here, sizes counted in bytes) and hand-written
 * validation instead of a class-validator pipe (ENVIRONMENT.md: ~4x the throughput). These
 * routes authenticate by write key themselves; the management-key guard never sees them.
 */
@Injectable()
export class TrackingHttpService implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly sources: SourceCacheService,
    private readonly ingest: IngestService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    registerRawBodyScope(fastify, MAX_BATCH_BYTES + 1024, (scope) => {
      for (const route of ROUTES) {
        for (const path of route.paths) {
          const limit = route.type ? MAX_EVENT_BYTES + 1024 : MAX_BATCH_BYTES + 1024;
          scope.post(path, { bodyLimit: limit }, (req, reply) => this.handle(req, reply, route.type));
          scope.options(path, (req, reply) => this.preflight(req, reply));
        }
      }
    });
  }

  private preflight(req: FastifyRequest, reply: FastifyReply): void {
    // The source is unknown before the real request (no key yet): the POST enforces allowed origins.
    void reply
      .header('access-control-allow-origin', req.headers.origin ?? '*')
      .header('access-control-allow-methods', 'POST, OPTIONS')
      .header('access-control-allow-headers', 'Content-Type, Authorization, Content-Encoding')
      .header('access-control-max-age', '86400')
      .header('vary', 'Origin')
      .code(204)
      .send();
  }

  private async handle(req: FastifyRequest, reply: FastifyReply, type: SegmentType | undefined): Promise<void> {
    const receivedAt = new Date();
    try {
      const body = await decodeJsonBody(req.body as Buffer | undefined, req.headers['content-type'], req.headers['content-encoding'] as string | undefined, type ? MAX_EVENT_BYTES : MAX_BATCH_BYTES);
      const source = await this.authenticate(req, body);
      this.applyCors(req, reply, source);
      const items = this.itemsOf(body, type);
      const { calls, errors } = normaliseBatch(items, { sourceId: source.id, receivedAt, impliedType: type, batchSentAt: type ? undefined : (body as Record<string, unknown>).sentAt });
      if (errors.length) eventsRejected.inc({ reason: 'invalid' }, errors.length);
      if (!calls.length) throw new BadRequest(400, type ? 'the event is invalid' : 'no valid event in the batch', { errors });
      this.ingest.checkRate(source, calls.length);
      await this.ingest.ingest(source, calls.map(toItem));
      const answer: TrackingResponse = errors.length ? { success: true, errors } : { success: true };
      await reply.code(200).send(answer);
    } catch (error) {
      if (error instanceof ArchiveBehind) {
        await reply.code(503).header('retry-after', String(error.retryAfterSeconds)).send({ success: false, statusCode: 503, message: error.message });
        return;
      }
      if (error instanceof RateLimited) {
        await reply.code(429).header('retry-after', String(error.retryAfterSeconds)).send({ success: false, statusCode: 429, message: error.message });
        return;
      }
      await sendError(reply, error, req);
    }
  }

  private async authenticate(req: FastifyRequest, body: unknown): Promise<SourceRecord> {
    const fromBody = typeof body === 'object' && body !== null && typeof (body as { writeKey?: unknown }).writeKey === 'string' ? (body as { writeKey: string }).writeKey : undefined;
    const writeKey = writeKeyFromAuthorization(req.headers.authorization) ?? fromBody;
    if (!writeKey) throw new BadRequest(401, 'a write key is required (Basic auth user or writeKey in the body)');
    const source = await this.sources.byWriteKey(writeKey);
    if (!source) throw new BadRequest(401, 'unknown write key');
    return source;
  }

  /** Browsers may send only from the source's allowed origins (any origin when none are set). */
  private applyCors(req: FastifyRequest, reply: FastifyReply, source: SourceRecord): void {
    const origin = req.headers.origin;
    if (!origin) return;
    if (source.allowedOrigins.length && !source.allowedOrigins.includes(origin)) throw new BadRequest(403, `origin ${origin} is not allowed for this source`);
    void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
  }

  private itemsOf(body: unknown, type: SegmentType | undefined): unknown[] {
    if (type) return [body];
    const batch = typeof body === 'object' && body !== null ? (body as { batch?: unknown }).batch : undefined;
    if (!Array.isArray(batch)) throw new BadRequest(400, 'batch must be an array of events', { errors: [{ index: -1, path: 'batch', message: 'must be an array' }] });
    if (!batch.length) throw new BadRequest(400, 'batch is empty', { errors: [{ index: -1, path: 'batch', message: 'must not be empty' }] });
    return batch;
  }
}
