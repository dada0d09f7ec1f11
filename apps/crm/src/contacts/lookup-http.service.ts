import { HttpException, HttpStatus, Inject, Injectable, Logger, NotFoundException, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { Server } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { RequestError } from '@tessera/bus';
import { flattenValidationErrors } from '@tessera/contracts';
import { hashApiKey, hasScope, isTransientError, KEY_VERIFIER, MicroBatcher, serveDirect, type DirectResponse, type KeyVerifier } from '@tessera/service-kit';
import { ContactStore, type LiveContact, type LookupKind } from './contact-store.repository';
import { LookupQuery, type ContactView } from './contacts.dto';
import { ContactsService, toView } from './contacts.service';
import { normalizeEmail } from './normalize';

export const LOOKUP_PATH = '/v1/contacts/lookup';

const KINDS = new Map<string, LookupKind | 'phone'>([
  ['externalId', 'external_id'],
  ['email', 'email'],
  ['anonymousId', 'anonymous_id'],
  ['phone', 'phone'],
]);

/** An answer other than 200, with the body Nest's guard, pipe and error filter would give. */
class Refusal {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {}
}

/** The `error` names Nest's built-in exceptions and the error filter use. */
const ERROR_NAMES: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error', 503: 'Service Unavailable' };

function refusal(status: number, message: string): Refusal {
  return new Refusal(status, { statusCode: status, error: ERROR_NAMES[status], message });
}

function validationFailed(errors: { path: string; messages: string[] }[]): Refusal {
  return new Refusal(400, { statusCode: 400, error: 'Bad Request', message: 'Validation failed', errors });
}

/**
 * `GET /v1/contacts/lookup` served straight from node:http (serveDirect), ahead of Nest and
 * Fastify: at 1,000 lookups/s their per-request routing, hooks and reply machinery cost more CPU
 * than the lookup itself. The controller method stays (it documents the route in OpenAPI) but
 * never runs. Same keys, scope, bodies and response shape as the rest of the API. Concurrent
 * lookups of one kind share one statement (MicroBatcher): a round trip, with its socket writes and
 * process wake-ups, costs both sides more CPU than a row (profiled: pg's socket writes alone were
 * the largest single cost). The HTTP server span remains; the pg queries run with tracing
 * suppressed (no span per query, nor one parented by whichever request opened the batch).
 */
@Injectable()
export class LookupHttpService implements OnModuleInit {
  private readonly logger = new Logger('LookupHttp');
  private readonly batchers = new Map<LookupKind, MicroBatcher<{ workspaceId: string; value: string }, LiveContact | undefined>>(
    (['external_id', 'email', 'anonymous_id'] as const).map((kind) => [
      kind,
      new MicroBatcher((items) => context.with(suppressTracing(ROOT_CONTEXT), () => this.lookupMany(kind, items))),
    ]),
  );

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly store: ContactStore,
    @Inject(KEY_VERIFIER) private readonly verifier: KeyVerifier,
    private readonly contacts: ContactsService,
  ) {}

  onModuleInit(): void {
    serveDirect(this.adapterHost.httpAdapter.getHttpServer() as Server, new Map([[LOOKUP_PATH, { get: (req, query) => this.handle(req.headers.authorization, query) }]]));
  }

  async handle(authorization: string | undefined, query: string): Promise<DirectResponse> {
    try {
      const workspaceId = await this.authenticate(authorization);
      return { status: 200, body: await this.lookup(workspaceId, parseQuery(query)) };
    } catch (error) {
      const { status, body } = this.toRefusal(error);
      return status === 503 ? { status, headers: { 'retry-after': '1' }, body } : { status, body };
    }
  }

  /** ApiKeyGuard's rules: a Bearer key that is live (401) and holds crm:read (403). */
  private async authenticate(header: string | undefined): Promise<string> {
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!match) throw refusal(401, 'Missing API key: send Authorization: Bearer <key>');
    let auth;
    try {
      auth = await this.verifier.verify(hashApiKey(match[1]!));
    } catch (error) {
      if (error instanceof RequestError && error.code === 'unavailable') throw refusal(503, 'Key verification is unavailable; retry shortly');
      throw error;
    }
    if (!auth) throw refusal(401, 'Invalid or revoked API key');
    if (!hasScope(auth.scopes, 'crm:read')) throw refusal(403, 'This key lacks the scope crm:read');
    return auth.workspaceId;
  }

  private async lookup(workspaceId: string, query: Record<string, unknown>): Promise<ContactView> {
    const keys = Object.keys(query);
    const key = keys[0];
    const kind = key !== undefined ? KINDS.get(key) : undefined;
    const raw = key !== undefined ? query[key] : undefined;
    // The common case (one known key, one string value) skips class-validator; anything else gets
    // the global ValidationPipe's exact verdict and 400 body.
    if (keys.length !== 1 || !kind || typeof raw !== 'string') {
      this.validate(query);
      throw validationFailed([{ path: 'query', messages: ['give exactly one of externalId, email, phone, anonymousId'] }]);
    }
    // A shared phone needs the service's tie-break and merge walk: rare, so not special-cased.
    if (kind === 'phone') return this.contacts.lookup(workspaceId, { phone: raw });
    const value = kind === 'email' ? normalizeEmail(raw) : raw;
    if (!value) throw validationFailed([{ path: key!, messages: [`${key} is not valid`] }]);
    const row = await this.batchers.get(kind)!.submit({ workspaceId, value });
    if (!row || row.erasedAt || row.mergedInto) throw new NotFoundException('Contact not found');
    return toView(row, row.tags);
  }

  /**
   * A lone lookup takes the single-row statement: Postgres re-plans the batched one at each run
   * (its generic plan, costed for an array of unknown length, never wins), which costs more than
   * the lookup itself when there is nothing to share it with (measured: 3x its Postgres CPU).
   */
  private async lookupMany(kind: LookupKind, items: { workspaceId: string; value: string }[]): Promise<(LiveContact | undefined)[]> {
    if (items.length > 1) return this.store.lookupLiveMany(kind, items);
    return [await this.store.lookupLive(this.store.pool, items[0]!.workspaceId, kind, items[0]!.value)];
  }

  private validate(query: Record<string, unknown>): void {
    const errors = validateSync(plainToInstance(LookupQuery, query), { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
    if (errors.length) throw validationFailed(flattenValidationErrors(errors));
  }

  private toRefusal(error: unknown): Refusal {
    if (error instanceof Refusal) return error;
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const response = error.getResponse();
      return new Refusal(status, typeof response === 'object' ? { statusCode: status, error: HttpStatus[status] ?? 'Error', ...response, message: (response as { message?: string }).message ?? error.message } : { statusCode: status, error: HttpStatus[status] ?? 'Error', message: response });
    }
    const code = (error as { code?: string }).code;
    if (code?.startsWith('22')) return refusal(400, 'Invalid input value');
    if (isTransientError(error as Error)) return refusal(503, 'Temporarily unavailable; retry shortly');
    this.logger.error({ err: error }, 'unhandled error');
    return refusal(500, 'Internal error');
  }
}
