import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import { serveDirect, type DirectResponse, type DirectRoute } from '@tessera/service-kit';
import { eventsRejected } from '../common/metrics';
import { SourceCacheService } from '../sources/source-cache.service';
import type { SourceRecord } from '../sources/source';
import { ArchiveBehind, IngestService, RateLimited, type IngestItem } from './ingest.service';
import { BadRequest, decodeJsonBody, writeKeyFromAuthorization } from './request-body';
import { MAX_BATCH_BYTES, MAX_EVENT_BYTES, normaliseBatch, type ItemError, type NormalisedCall, type SegmentType } from './segment-call';

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

const OK: DirectResponse = { status: 200, body: { success: true } satisfies TrackingResponse };

function toItem(call: NormalisedCall): IngestItem {
  return { subject: call.subject, data: call.data, messageId: call.messageId, occurredAt: (call.data as { timestamp: string }).timestamp };
}

/**
 * The Segment HTTP Tracking API, served straight from node:http (serveDirect), not by Nest or
 * Fastify: thousands of small calls a second, where the framework's per-request work cost more
 * than the call's own. The body arrives as raw bytes (gzip and text/plain handled here, sizes
 * counted in bytes) and is validated by hand instead of a class-validator pipe (ENVIRONMENT.md:
 * ~4x the throughput). These routes authenticate by write key themselves; the management-key
 * guard never sees them.
 */
@Injectable()
export class TrackingHttpService implements OnModuleInit {
  private readonly logger = new Logger('ingestion-http');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly sources: SourceCacheService,
    private readonly ingest: IngestService,
  ) {}

  onModuleInit(): void {
    const routes = new Map<string, DirectRoute>();
    for (const route of ROUTES) {
      const bodyLimit = (route.type ? MAX_EVENT_BYTES : MAX_BATCH_BYTES) + 1024;
      for (const path of route.paths) routes.set(path, { bodyLimit, post: (req, body) => this.handle(req, body, route.type), options: (req) => this.preflight(req) });
    }
    serveDirect(this.adapterHost.httpAdapter.getHttpServer() as Server, routes);
  }

  private preflight(req: IncomingMessage): DirectResponse {
    // The source is unknown before the real request (no key yet): the POST enforces allowed origins.
    return {
      status: 204,
      headers: {
        'access-control-allow-origin': req.headers.origin ?? '*',
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': 'Content-Type, Authorization, Content-Encoding',
        'access-control-max-age': '86400',
        vary: 'Origin',
      },
    };
  }

  private async handle(req: IncomingMessage, raw: Buffer | undefined, type: SegmentType | undefined): Promise<DirectResponse> {
    const receivedAt = new Date();
    try {
      const body = await decodeJsonBody(raw, req.headers['content-type'], req.headers['content-encoding'], type ? MAX_EVENT_BYTES : MAX_BATCH_BYTES);
      const source = await this.authenticate(req, body);
      const cors = this.corsHeaders(req, source);
      const items = this.itemsOf(body, type);
      // A single call's body was held to MAX_EVENT_BYTES as sent (decodeJsonBody); batch items are measured one by one.
      const { calls, errors } = normaliseBatch(items, { sourceId: source.id, receivedAt, impliedType: type, sizeChecked: type !== undefined, batchSentAt: type ? undefined : (body as Record<string, unknown>).sentAt });
      if (errors.length) eventsRejected.inc({ reason: 'invalid' }, errors.length);
      if (!calls.length) throw new BadRequest(400, type ? 'the event is invalid' : 'no valid event in the batch', { errors });
      this.ingest.checkRate(source, calls.length);
      await this.ingest.ingest(source, calls.map(toItem));
      if (!errors.length && !cors) return OK;
      return { status: 200, headers: cors, body: errors.length ? ({ success: true, errors } satisfies TrackingResponse) : OK.body };
    } catch (error) {
      return this.failure(req, error);
    }
  }

  /** Client mistakes get their 4xx and a message; anything else is our failure: 503, so senders retry. */
  private failure(req: IncomingMessage, error: unknown): DirectResponse {
    if (error instanceof BadRequest) return { status: error.status, body: { success: false, statusCode: error.status, message: error.message, ...error.extra } };
    if (error instanceof ArchiveBehind || error instanceof RateLimited) {
      const status = error instanceof RateLimited ? 429 : 503;
      return { status, headers: { 'retry-after': String(error.retryAfterSeconds) }, body: { success: false, statusCode: status, message: error.message } };
    }
    this.logger.error({ err: error, url: (req.url ?? '').split('?')[0] }, 'ingestion request failed');
    return { status: 503, headers: { 'retry-after': '1' }, body: { success: false, statusCode: 503, message: 'temporarily unable to store events; retry' } };
  }

  private async authenticate(req: IncomingMessage, body: unknown): Promise<SourceRecord> {
    const fromBody = typeof body === 'object' && body !== null && typeof (body as { writeKey?: unknown }).writeKey === 'string' ? (body as { writeKey: string }).writeKey : undefined;
    const writeKey = writeKeyFromAuthorization(req.headers.authorization) ?? fromBody;
    if (!writeKey) throw new BadRequest(401, 'a write key is required (Basic auth user or writeKey in the body)');
    const source = await this.sources.byWriteKey(writeKey);
    if (!source) throw new BadRequest(401, 'unknown write key');
    return source;
  }

  /** Browsers may send only from the source's allowed origins (any origin when none are set). */
  private corsHeaders(req: IncomingMessage, source: SourceRecord): Record<string, string> | undefined {
    const origin = req.headers.origin;
    if (!origin) return undefined;
    if (source.allowedOrigins.length && !source.allowedOrigins.includes(origin)) throw new BadRequest(403, `origin ${origin} is not allowed for this source`);
    return { 'access-control-allow-origin': origin, vary: 'Origin' };
  }

  private itemsOf(body: unknown, type: SegmentType | undefined): unknown[] {
    if (type) return [body];
    const batch = typeof body === 'object' && body !== null ? (body as { batch?: unknown }).batch : undefined;
    if (!Array.isArray(batch)) throw new BadRequest(400, 'batch must be an array of events', { errors: [{ index: -1, path: 'batch', message: 'must be an array' }] });
    if (!batch.length) throw new BadRequest(400, 'batch is empty', { errors: [{ index: -1, path: 'batch', message: 'must not be empty' }] });
    return batch;
  }
}
