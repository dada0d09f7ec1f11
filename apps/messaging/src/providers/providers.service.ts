import { BadRequestException, Inject, Injectable, Logger, NotFoundException, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { redactOptions, TokenBucket, validateProviderOptions, type ChannelProvider, type ProviderRegistry } from '@tessera/provider-core';
import { SharedCalls } from '../common/shared-calls';
import type { ProviderConfig } from '../generated/prisma/client';
import { PROVIDER_REGISTRY } from './provider-plugins';
import type { CreateProviderConfigDto, ProviderConfigView } from './providers.dto';
import { ProvidersRepository } from './providers.repository';

export interface LiveProvider {
  config: ProviderConfig;
  provider: ChannelProvider;
  bucket?: TokenBucket;
}

/** Provider configs: validated at save, instantiated once per config version and reused (pooled). */
@Injectable()
export class ProvidersService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly live = new Map<string, LiveProvider>();
  private readonly channelReads = new SharedCalls<ProviderConfig[]>();
  private readonly logger = new Logger(ProvidersService.name);

  constructor(
    private readonly repository: ProvidersRepository,
    @Inject(PROVIDER_REGISTRY) private readonly registry: ProviderRegistry,
  ) {}

  async create(workspaceId: string, dto: CreateProviderConfigDto): Promise<ProviderConfigView> {
    const def = this.registry.get(dto.providerId);
    if (!def) throw new BadRequestException({ message: `Unknown provider "${dto.providerId}"`, errors: [{ path: 'providerId', messages: [`installed: ${this.registry.list().map((d) => d.id).join(', ')}`] }] });
    if (def.channel !== dto.channel) throw new BadRequestException({ message: `Provider "${def.id}" sends on ${def.channel}, not ${dto.channel}`, errors: [{ path: 'channel', messages: [`must be ${def.channel}`] }] });
    const validated = validateProviderOptions(def, dto.options);
    if (!validated.ok) throw new BadRequestException({ message: 'Invalid provider options', errors: validated.problems.map((p) => ({ path: `options.${p.path}`, messages: p.messages })) });
    const saved = await this.repository.create({
      id: uuidv7(),
      workspaceId,
      name: dto.name,
      channel: dto.channel,
      providerId: dto.providerId,
      options: { ...validated.options } as object,
      isDefault: dto.isDefault ?? false,
      priority: dto.priority ?? 100,
      rateLimitPerSecond: dto.rateLimitPerSecond ?? null,
    });
    return this.view(saved);
  }

  async list(workspaceId: string): Promise<ProviderConfigView[]> {
    return (await this.repository.list(workspaceId)).map((c) => this.view(c));
  }

  async get(workspaceId: string, id: string): Promise<ProviderConfigView> {
    const found = await this.repository.find(workspaceId, id);
    if (!found) throw new NotFoundException(`No provider config ${id}`);
    return this.view(found);
  }

  async delete(workspaceId: string, id: string): Promise<void> {
    if (!(await this.repository.delete(workspaceId, id))) throw new NotFoundException(`No provider config ${id}`);
    const live = this.live.get(id);
    this.live.delete(id);
    await live?.provider.close();
  }

  /** The channel's providers, default first, each a running instance (concurrent sends share the read). */
  async forChannel(workspaceId: string, channel: string): Promise<LiveProvider[]> {
    const configs = await this.channelReads.run(`${workspaceId}/${channel}`, () => this.repository.forChannel(workspaceId, channel));
    return configs.flatMap((config) => {
      const cached = this.live.get(config.id);
      if (cached && cached.config.updatedAt.getTime() === config.updatedAt.getTime()) return [cached];
      const def = this.registry.get(config.providerId);
      if (!def) return [];
      // Saved options were validated; re-validating builds the typed options object (and catches plug-in upgrades).
      const validated = validateProviderOptions(def, config.options);
      if (!validated.ok) {
        this.logger.error({ providerConfigId: config.id, problems: validated.problems }, 'skipping invalid provider configuration');
        return [];
      }
      void cached?.provider.close();
      const entry: LiveProvider = { config, provider: def.create(validated.options), bucket: config.rateLimitPerSecond ? new TokenBucket(config.rateLimitPerSecond) : undefined };
      this.live.set(config.id, entry);
      return [entry];
    });
  }

  /** Re-validates every saved configuration at start-up (a plug-in upgrade may have tightened its schema). */
  async onApplicationBootstrap(): Promise<void> {
    for (const config of await this.repository.all()) {
      const def = this.registry.get(config.providerId);
      const problems = def ? validateProviderOptions(def, config.options) : { ok: false as const, problems: [{ path: 'providerId', messages: ['plug-in not installed'] }] };
      if (!problems.ok) this.logger.error({ providerConfigId: config.id, workspaceId: config.workspaceId, problems: problems.problems }, 'provider configuration is invalid and will not be used');
    }
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.live.values()].map((l) => l.provider.close()));
  }

  private view(config: ProviderConfig): ProviderConfigView {
    const def = this.registry.get(config.providerId);
    const options = config.options as Record<string, unknown>;
    return {
      id: config.id,
      name: config.name,
      channel: config.channel,
      providerId: config.providerId,
      options: def ? redactOptions(def, options) : {},
      isDefault: config.isDefault,
      priority: config.priority,
      rateLimitPerSecond: config.rateLimitPerSecond,
    };
  }
}
