import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import type { TemplateLookupV1 } from '@tessera/contracts';
import { SharedCalls } from '../common/shared-calls';
import type { Template, TemplateVersion } from '../generated/prisma/client';
import { pickLocale, render, syntaxError, type ChannelContent, type TemplateContent } from './renderer';
import type { CreateTemplateDto, UpdateTemplateDto } from './templates.dto';
import { TemplatesRepository } from './templates.repository';

export interface ResolvedTemplate {
  templateId: string;
  version: number;
  versionId: string;
  channel: string;
  subscriptionGroup: string | null;
  requiredVariables: string[];
  content: TemplateContent;
}

const PARTIALS_TTL_MS = 5_000;

@Injectable()
export class TemplatesService {
  private readonly partialsCache = new Map<string, { at: number; key: string; partials: Record<string, string> }>();
  private readonly sendResolutions = new SharedCalls<ResolvedTemplate | undefined>();
  private readonly partialReads = new SharedCalls<{ key: string; partials: Record<string, string> }>();

  constructor(private readonly repository: TemplatesRepository) {}

  async create(workspaceId: string, dto: CreateTemplateDto): Promise<Template> {
    this.checkContent(dto.channel, dto.content);
    return this.repository.create({ id: uuidv7(), workspaceId, name: dto.name, channel: dto.channel, content: dto.content as object, requiredVariables: dto.requiredVariables ?? [], subscriptionGroup: dto.subscriptionGroup ?? null });
  }

  list(workspaceId: string): Promise<Template[]> {
    return this.repository.list(workspaceId);
  }

  async get(workspaceId: string, id: string): Promise<Template> {
    const found = await this.repository.find(workspaceId, id);
    if (!found) throw new NotFoundException(`No template ${id}`);
    return found;
  }

  async update(workspaceId: string, id: string, dto: UpdateTemplateDto): Promise<Template> {
    const current = await this.get(workspaceId, id);
    if (dto.content) this.checkContent(current.channel, dto.content);
    const updated = await this.repository.update(workspaceId, current.id, { ...(dto.content ? { content: dto.content as object } : {}), ...(dto.requiredVariables ? { requiredVariables: dto.requiredVariables } : {}) });
    return updated!;
  }

  async publish(workspaceId: string, id: string): Promise<TemplateVersion> {
    const current = await this.get(workspaceId, id);
    return (await this.repository.publish(workspaceId, current.id))!;
  }

  /** Later sends naming it fail as `unknown_template` and announce messaging.template.missing.v1 (journeys pauses the journey). */
  async delete(workspaceId: string, id: string): Promise<void> {
    const current = await this.get(workspaceId, id);
    await this.repository.delete(workspaceId, current.id);
  }

  /** Whether each template (by id or name) exists, with its channel and latest published version, in the order asked. */
  async lookup(workspaceId: string, idsOrNames: string[]): Promise<TemplateLookupV1[]> {
    const found = await this.repository.findMany(workspaceId, idsOrNames);
    return idsOrNames.map((asked) => {
      const t = found.find((f) => f.id === asked.toLowerCase() || f.name === asked);
      if (!t) return { templateId: asked, exists: false };
      return { templateId: asked, exists: true, channel: t.channel as TemplateLookupV1['channel'], ...(t.latestVersion > 0 ? { publishedVersion: t.latestVersion } : {}) };
    });
  }

  async versions(workspaceId: string, id: string): Promise<TemplateVersion[]> {
    return this.repository.versions(workspaceId, (await this.get(workspaceId, id)).id);
  }

  /** The latest published version (sends never use drafts); concurrent sends of one template share the read. */
  resolveForSend(workspaceId: string, idOrName: string): Promise<ResolvedTemplate | undefined> {
    return this.sendResolutions.run(`${workspaceId}/${idOrName}`, () => this.latestPublished(workspaceId, idOrName));
  }

  private async latestPublished(workspaceId: string, idOrName: string): Promise<ResolvedTemplate | undefined> {
    const template = await this.repository.find(workspaceId, idOrName);
    if (!template) return undefined;
    const version = await this.repository.latestVersion(workspaceId, template.id);
    return version ? this.resolved(version) : undefined;
  }

  async resolveForPreview(workspaceId: string, id: string, version?: number): Promise<ResolvedTemplate> {
    const template = await this.get(workspaceId, id);
    if (version) {
      const v = await this.repository.version(workspaceId, template.id, version);
      if (!v) throw new NotFoundException(`Template ${id} has no version ${version}`);
      return this.resolved(v);
    }
    return { templateId: template.id, version: 0, versionId: `draft:${template.id}:${template.updatedAt.getTime()}`, channel: template.channel, subscriptionGroup: template.subscriptionGroup, requiredVariables: template.requiredVariables, content: template.content as unknown as TemplateContent };
  }

  async putPartial(workspaceId: string, name: string, body: string): Promise<{ name: string; updatedAt: Date }> {
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(name)) throw new BadRequestException({ message: 'Invalid partial name', errors: [{ path: 'name', messages: ['letters, digits, _ and - only'] }] });
    this.tryCompile(`partial ${name}`, body);
    const saved = await this.repository.putPartial(workspaceId, name, body);
    this.partialsCache.delete(workspaceId);
    return { name: saved.name, updatedAt: saved.updatedAt };
  }

  /**
   * The workspace's partials, cached briefly (a partial edit shows within PARTIALS_TTL_MS on other
   * replicas). The renders in flight when the entry expires share one read.
   */
  async partials(workspaceId: string): Promise<{ key: string; partials: Record<string, string> }> {
    const hit = this.partialsCache.get(workspaceId);
    if (hit && Date.now() - hit.at < PARTIALS_TTL_MS) return hit;
    return this.partialReads.run(workspaceId, async () => {
      const rows = await this.repository.partials(workspaceId);
      const key = `${workspaceId}:${rows.map((r) => `${r.name}@${r.updatedAt.getTime()}`).join(',')}`;
      const entry = { at: Date.now(), key, partials: Object.fromEntries(rows.map((r) => [r.name, r.body])) };
      this.partialsCache.set(workspaceId, entry);
      return entry;
    });
  }

  async render(workspaceId: string, template: ResolvedTemplate, data: Record<string, unknown>, locale?: string | null): Promise<ChannelContent & { locale: string }> {
    const { key, partials } = await this.partials(workspaceId);
    return render({ cacheKey: template.versionId, channel: template.channel as ChannelContent['channel'], content: template.content, requiredVariables: template.requiredVariables, data, locale, partials, partialsKey: key });
  }

  private resolved(v: TemplateVersion): ResolvedTemplate {
    return { templateId: v.templateId, version: v.version, versionId: v.id, channel: v.channel, subscriptionGroup: v.subscriptionGroup, requiredVariables: v.requiredVariables, content: v.content as unknown as TemplateContent };
  }

  /** Refuses content without a default locale or with a part that does not compile. */
  private checkContent(channel: string, content: { locales?: unknown }): void {
    if (!content.locales || typeof content.locales !== 'object') throw new BadRequestException({ message: 'content.locales is required', errors: [{ path: 'content.locales', messages: ['must be an object keyed by locale'] }] });
    try {
      pickLocale(content as TemplateContent, null);
    } catch {
      throw new BadRequestException({ message: 'content.locales.default is required', errors: [{ path: 'content.locales.default', messages: ['is required'] }] });
    }
    const required: Record<string, string[]> = { email: ['subject'], sms: ['body'], push: ['title', 'body'], whatsapp: [], webhook: ['payload'] };
    const def = (content as TemplateContent).locales.default!;
    for (const part of required[channel] ?? []) {
      if (typeof def[part] !== 'string') throw new BadRequestException({ message: `${channel} templates need ${part}`, errors: [{ path: `content.locales.default.${part}`, messages: ['is required'] }] });
    }
    for (const [locale, parts] of Object.entries((content as TemplateContent).locales)) {
      for (const [name, source] of Object.entries(parts ?? {})) if (typeof source === 'string') this.tryCompile(`content.locales.${locale}.${name}`, source);
    }
  }

  private tryCompile(path: string, source: string): void {
    const error = syntaxError(source);
    if (error) throw new BadRequestException({ message: `Template syntax error in ${path}`, errors: [{ path, messages: [error] }] });
  }
}
