import { Inject, Injectable, NotFoundException, type OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import type { BaseConfig } from '@tessera/config';
import { DEFAULT_WORKSPACE_ID } from '@tessera/contracts';
import { hashApiKey, SERVICE_CONFIG } from '@tessera/service-kit';
import { maskSecret, type SourceRecord } from './source';
import { SourceCacheService } from './source-cache.service';
import type { CreatedSourceView, CreateSourceDto, RotatedKeyView, SourceView, UpdateSourceDto } from './sources.dto';
import { SourcesRepository } from './sources.repository';

/** The default workspace's first source; its id is fixed so replicas racing at first start agree. */
export const DEFAULT_SOURCE_ID = '00000000-0000-4000-8000-000000000002';

/** Write keys look like `twk_<32 url-safe characters>` (24 random bytes). */
export function generateWriteKey(): string {
  return `twk_${randomBytes(24).toString('base64url')}`;
}

function view(source: SourceRecord): SourceView {
  return {
    id: source.id,
    workspaceId: source.workspaceId,
    name: source.name,
    kind: source.kind,
    provider: source.provider,
    allowedOrigins: source.allowedOrigins,
    signingSecret: maskSecret(source.signingSecret),
    settings: source.settings,
    previousWriteKeyExpiresAt: source.previousWriteKeyExpiresAt?.toISOString() ?? null,
    webhookPath: source.kind === 'webhook' && source.provider ? `/v1/webhooks/${source.provider}/${source.id}` : null,
    createdAt: source.createdAt.toISOString(),
  };
}

@Injectable()
export class SourcesService implements OnApplicationBootstrap {
  constructor(
    private readonly repository: SourcesRepository,
    private readonly cache: SourceCacheService,
    @Inject(SERVICE_CONFIG) private readonly config: BaseConfig,
  ) {}

  /** On first start with an empty database: the default source, keyed by TESSERA_WRITE_KEY or a new key. */
  async onApplicationBootstrap(): Promise<void> {
    const givenKey = this.config.TESSERA_WRITE_KEY;
    const key = givenKey ?? generateWriteKey();
    const created = await this.repository.createIfAbsent({ id: DEFAULT_SOURCE_ID, workspaceId: DEFAULT_WORKSPACE_ID, name: 'Default source', writeKeyHash: hashApiKey(key) });
    if (created && !givenKey) process.stdout.write(`\nTessera default source created. Write key (shown once): ${key}\n\n`);
  }

  async create(workspaceId: string, dto: CreateSourceDto): Promise<CreatedSourceView> {
    const writeKey = generateWriteKey();
    // Generic webhooks sign with a key we hand out; providers' secrets come from their dashboards.
    const signingSecret = dto.signingSecret ?? (dto.kind === 'webhook' && dto.provider === 'generic' ? `whsec_${randomBytes(24).toString('base64url')}` : null);
    const source = await this.repository.create({
      id: randomUUID(),
      workspaceId,
      name: dto.name,
      kind: dto.kind,
      provider: dto.kind === 'webhook' ? (dto.provider ?? null) : null,
      writeKeyHash: hashApiKey(writeKey),
      allowedOrigins: dto.allowedOrigins ?? [],
      signingSecret,
      settings: dto.settings ?? {},
    });
    return { ...view(source), writeKey, signingSecretValue: signingSecret };
  }

  async list(workspaceId: string): Promise<SourceView[]> {
    return (await this.repository.list(workspaceId)).map(view);
  }

  async get(workspaceId: string, id: string): Promise<SourceView> {
    const source = await this.repository.get(workspaceId, id);
    if (!source) throw new NotFoundException(`source ${id} not found`);
    return view(source);
  }

  async update(workspaceId: string, id: string, dto: UpdateSourceDto): Promise<SourceView> {
    const source = await this.repository.update(workspaceId, id, dto);
    if (!source) throw new NotFoundException(`source ${id} not found`);
    this.cache.clear();
    return view(source);
  }

  /** A new write key; the old one keeps working for `overlapSeconds` so senders can switch over. */
  async rotateWriteKey(workspaceId: string, id: string, overlapSeconds = 86_400): Promise<RotatedKeyView> {
    const writeKey = generateWriteKey();
    const source = await this.repository.rotateWriteKey(workspaceId, id, hashApiKey(writeKey), new Date(Date.now() + overlapSeconds * 1000));
    if (!source) throw new NotFoundException(`source ${id} not found`);
    this.cache.clear();
    return { writeKey, previousWriteKeyExpiresAt: source.previousWriteKeyExpiresAt?.toISOString() ?? null };
  }

  async delete(workspaceId: string, id: string): Promise<void> {
    if (!(await this.repository.delete(workspaceId, id))) throw new NotFoundException(`source ${id} not found`);
    this.cache.clear();
  }
}
