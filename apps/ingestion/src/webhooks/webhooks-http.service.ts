import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { eventDefinition, validateContract } from '@tessera/contracts';
import { SERVICE_CONFIG } from '@tessera/service-kit';
import { webhookSignatureFailures } from '../common/metrics';
import { registerRawBodyScope, sendError } from '../common/raw-routes';
import type { IngestionConfig } from '../config/ingestion.config';
import { SourceCacheService } from '../sources/source-cache.service';
import { WEBHOOK_PROVIDERS, type SourceRecord, type WebhookProvider } from '../sources/source';
import { eventIdFor } from '../tracking/envelopes';
import { IngestRepository } from '../tracking/ingest.repository';
import { IngestService, PRODUCER, RateLimited } from '../tracking/ingest.service';
import { BadRequest } from '../tracking/request-body';
import { exceedsDepth } from '../tracking/segment-call';
import { mapGeneric, readMapping } from './generic.mapper';
import { isRecord, parseJsonKeepingBigInts } from './json';
import type { Mapped } from './mapper';
import { mapTwilio, mapWhatsApp } from './messaging.mapper';
import { mapShopify } from './shopify.mapper';
import { safeEqual, verifyMeta, verifyShopify, verifyTimestampedHmac, verifyTwilio, type Verdict } from './signatures';
import { mapStripe } from './stripe.mapper';

const MAX_WEBHOOK_BYTES = 1024 * 1024;

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(raw: Buffer): unknown {
  let parsed: unknown;
  try {
    parsed = parseJsonKeepingBigInts(raw.toString('utf8'));
  } catch {
    throw new BadRequest(400, 'the body is not valid JSON');
  }
  if (exceedsDepth(parsed, 64)) throw new BadRequest(400, 'the body is nested too deeply');
  return parsed;
}

/**
 * Signed inbound webhooks at /v1/webhooks/{provider}/{sourceId}: the signature is checked over the
 * raw bytes first (401 and a counter when wrong), then the payload is mapped to contract events
 * and ingested like tracking calls (de-dup by the provider's id, publish, archive). Payloads we do
 * not map are archived and acknowledged, so providers do not retry them forever.
 */
@Injectable()
export class WebhooksHttpService implements OnModuleInit {
  private readonly logger = new Logger('webhooks');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly sources: SourceCacheService,
    private readonly ingest: IngestService,
    private readonly repository: IngestRepository,
    @Inject(SERVICE_CONFIG) private readonly config: IngestionConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    registerRawBodyScope(fastify, MAX_WEBHOOK_BYTES, (scope) => {
      scope.post<{ Params: { provider: string; sourceId: string } }>('/v1/webhooks/:provider/:sourceId', (req, reply) => this.receive(req, reply));
      scope.get<{ Params: { provider: string; sourceId: string }; Querystring: Record<string, string> }>('/v1/webhooks/:provider/:sourceId', (req, reply) => this.handshake(req, reply));
    });
  }

  private async source(provider: string, sourceId: string): Promise<SourceRecord & { provider: WebhookProvider }> {
    if (!(WEBHOOK_PROVIDERS as readonly string[]).includes(provider)) throw new BadRequest(404, `unknown webhook provider ${provider}`);
    const source = await this.sources.byIdentifier(sourceId);
    if (!source || source.kind !== 'webhook' || source.provider !== provider) throw new BadRequest(404, 'no such webhook source');
    return source as SourceRecord & { provider: WebhookProvider };
  }

  /** Meta's subscription handshake: echo hub.challenge when hub.verify_token matches the source's. */
  private async handshake(req: FastifyRequest<{ Params: { provider: string; sourceId: string }; Querystring: Record<string, string> }>, reply: FastifyReply): Promise<void> {
    try {
      const source = await this.source(req.params.provider, req.params.sourceId);
      const expected = typeof source.settings.verifyToken === 'string' ? source.settings.verifyToken : undefined;
      const q = req.query;
      if (source.provider !== 'whatsapp' || q['hub.mode'] !== 'subscribe' || !expected || !safeEqual(q['hub.verify_token'] ?? '', expected)) throw new BadRequest(403, 'verification failed');
      await reply.code(200).type('text/plain').send(q['hub.challenge'] ?? '');
    } catch (error) {
      await sendError(reply, error, req);
    }
  }

  private async receive(req: FastifyRequest<{ Params: { provider: string; sourceId: string } }>, reply: FastifyReply): Promise<void> {
    const receivedAt = new Date();
    try {
      const source = await this.source(req.params.provider, req.params.sourceId);
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!source.signingSecret) throw new BadRequest(401, 'this source has no signing secret configured');
      const ctx = { sourceId: source.id, receivedAt };
      let mapped: Mapped;
      let verdict: Verdict;
      switch (source.provider) {
        case 'stripe':
          verdict = verifyTimestampedHmac(raw, header(req, 'stripe-signature'), source.signingSecret, this.config.WEBHOOK_TOLERANCE_SECONDS);
          this.check(source, verdict);
          mapped = mapStripe(parseJson(raw), ctx);
          break;
        case 'generic':
          verdict = verifyTimestampedHmac(raw, header(req, 'x-tessera-signature'), source.signingSecret, this.config.WEBHOOK_TOLERANCE_SECONDS);
          this.check(source, verdict);
          mapped = mapGeneric(parseJson(raw), raw, readMapping(source.settings), ctx);
          break;
        case 'shopify': {
          this.check(source, verifyShopify(raw, header(req, 'x-shopify-hmac-sha256'), source.signingSecret));
          const webhookId = header(req, 'x-shopify-webhook-id') ?? createHash('sha256').update(raw).digest('hex');
          mapped = mapShopify(header(req, 'x-shopify-topic') ?? 'unknown', webhookId, parseJson(raw), ctx);
          break;
        }
        case 'whatsapp':
          this.check(source, verifyMeta(raw, header(req, 'x-hub-signature-256'), source.signingSecret));
          mapped = mapWhatsApp(parseJson(raw), ctx);
          break;
        case 'twilio': {
          const params = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
          const url = `${this.config.PUBLIC_BASE_URL?.replace(/\/$/, '') ?? `${req.protocol}://${req.headers.host}`}${req.url}`;
          this.check(source, verifyTwilio(header(req, 'x-twilio-signature'), source.signingSecret, url, params));
          mapped = mapTwilio(params, ctx);
          break;
        }
      }
      await this.store(source, mapped, raw, receivedAt);
      if (source.provider === 'twilio') await reply.code(200).type('text/xml').send('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
      else await reply.code(200).send({ success: true });
    } catch (error) {
      if (error instanceof RateLimited) {
        await reply.code(429).header('retry-after', String(error.retryAfterSeconds)).send({ success: false, statusCode: 429, message: error.message });
        return;
      }
      await sendError(reply, error, req);
    }
  }

  private check(source: SourceRecord & { provider: WebhookProvider }, verdict: Verdict): void {
    if (verdict.ok) return;
    webhookSignatureFailures.inc({ provider: source.provider });
    this.logger.warn({ sourceId: source.id, provider: source.provider, reason: verdict.reason }, 'webhook signature refused');
    throw new BadRequest(401, `invalid signature: ${verdict.reason}`);
  }

  private async store(source: SourceRecord & { provider: WebhookProvider }, mapped: Mapped, raw: Buffer, receivedAt: Date): Promise<void> {
    // Mapped payloads are checked against their contract (not the hot path: class-validator is fine here).
    const valid = mapped.items.filter((item) => {
      const checked = validateContract(eventDefinition(item.subject)!.payload, item.data);
      if (!checked.ok) this.logger.warn({ sourceId: source.id, subject: item.subject, errors: checked.errors }, 'mapped webhook event failed its contract; archived instead');
      return checked.ok;
    });
    if (valid.length) {
      this.ingest.checkRate(source, valid.length);
      await this.ingest.ingest(source, valid);
    }
    if (mapped.unhandled || valid.length < mapped.items.length) {
      const digest = createHash('sha256').update(raw).digest('hex');
      const body = ((): unknown => {
        try {
          return source.provider === 'twilio' ? Object.fromEntries(new URLSearchParams(raw.toString('utf8'))) : parseJsonKeepingBigInts(raw.toString('utf8'));
        } catch {
          return raw.toString('utf8');
        }
      })();
      const id = eventIdFor(source.id, `unhandled:${digest}`);
      await this.repository.archiveUnhandled({
        id,
        sourceId: source.id,
        workspaceId: source.workspaceId,
        receivedAt,
        envelope: { id, subject: 'webhook.unhandled', workspaceId: source.workspaceId, occurredAt: receivedAt.toISOString(), producer: PRODUCER, data: { provider: source.provider, type: mapped.unhandled ?? 'contract-mismatch', body: isRecord(body) || Array.isArray(body) ? body : { text: body } } },
      });
    }
  }
}
