import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import type { JourneyDefinition } from '../engine/definition';
import { simulate, type SimulationResult } from '../engine/simulate';
import { isValidTimeZone, parseTimeOfDay } from '../engine/time';
import { parseDuration } from '../engine/definition';
import { validateDefinition, type DefinitionError } from '../engine/validate';
import { InstanceStoreRepository } from '../runtime/instance-store.repository';
import { JourneyCatalog } from '../runtime/journey-catalog.service';
import { JourneyRunner } from '../runtime/journey-runner.service';
import { TriggersService } from '../runtime/triggers.service';
import type { Journey, JourneyVersion, WorkspaceSettings } from '../generated/prisma/client';
import type { CreateJourneyDto, MigrateDto, SettingsDto, SimulateDto, TriggerJourneyDto, UpdateJourneyDto } from './journeys.dto';
import { JourneysRepository } from './journeys.repository';
import { RECIPES } from './recipes';
import { TemplateCheck, type TemplateUse } from './template-check';

function invalid(errors: DefinitionError[]): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: 'Invalid journey definition', errors: errors.map((e) => ({ ...e, ...(e.path.startsWith('nodes.') ? { node: e.path.split('.')[1] } : {}) })) });
}

/** The templates a definition's send steps name (checked with messaging at publish). */
function templateUses(definition: JourneyDefinition): TemplateUse[] {
  return Object.entries(definition.nodes).flatMap(([id, node]) => (node.type === 'send' ? [{ path: `nodes.${id}.templateId`, templateId: node.templateId, channel: node.channel }] : []));
}

/** Journey use cases: drafts, versions, lifecycle, triggers, simulation, migration, settings. */
@Injectable()
export class JourneysService {
  constructor(
    private readonly repo: JourneysRepository,
    private readonly catalog: JourneyCatalog,
    private readonly triggers: TriggersService,
    private readonly runner: JourneyRunner,
    private readonly store: InstanceStoreRepository,
    private readonly templates: TemplateCheck,
  ) {}

  async create(workspaceId: string, dto: CreateJourneyDto): Promise<Journey> {
    const errors = validateDefinition(dto.definition);
    if (errors.length) throw invalid(errors);
    return this.repo.create({ id: uuidv7(), workspaceId, name: dto.name, draft: dto.definition });
  }

  async get(workspaceId: string, id: string): Promise<Journey> {
    const journey = await this.repo.find(workspaceId, id);
    if (!journey) throw new NotFoundException(`Journey ${id} not found`);
    return journey;
  }

  list(workspaceId: string): Promise<Journey[]> {
    return this.repo.list(workspaceId);
  }

  async update(workspaceId: string, id: string, dto: UpdateJourneyDto): Promise<Journey> {
    const journey = await this.get(workspaceId, id);
    if (journey.status === 'archived') throw new ConflictException('An archived journey cannot be edited');
    if (dto.definition) {
      const errors = validateDefinition(dto.definition);
      if (errors.length) throw invalid(errors);
    }
    await this.repo.update(workspaceId, id, { ...(dto.name ? { name: dto.name } : {}), ...(dto.definition ? { draft: dto.definition as object } : {}) });
    return this.get(workspaceId, id);
  }

  /** Freezes the draft as the next version; new entries use it, instances in flight keep theirs. */
  async publish(workspaceId: string, id: string): Promise<{ version: JourneyVersion; warnings: string[] }> {
    const journey = await this.get(workspaceId, id);
    if (journey.status === 'archived') throw new ConflictException('An archived journey cannot be published');
    const known = new Set((await this.repo.knownSegments(workspaceId)).map((s) => s.segmentId));
    const errors = validateDefinition(journey.draft);
    if (errors.length) throw invalid(errors);
    const warnings = validateDefinition(journey.draft, { knownSegments: known }).map((e) => `${e.path}: ${e.messages.join(', ')} (no membership seen yet)`);
    const templates = await this.templates.check(workspaceId, templateUses(journey.draft as unknown as JourneyDefinition));
    if (templates.errors.length) throw invalid(templates.errors);
    warnings.push(...templates.warnings);
    const version = await this.repo.publish(workspaceId, id, journey.draft as object);
    this.catalog.invalidate(workspaceId);
    const definition = version.definition as unknown as JourneyDefinition;
    if (definition.trigger.type === 'date_attribute') await this.triggers.scheduleDateJourney(workspaceId, { id, version: version.version, name: journey.name, definition });
    return { version, warnings };
  }

  async setStatus(workspaceId: string, id: string, action: 'pause' | 'resume' | 'archive'): Promise<Journey> {
    const journey = await this.get(workspaceId, id);
    const allowed: Record<string, string[]> = { pause: ['active'], resume: ['paused'], archive: ['draft', 'active', 'paused'] };
    if (!allowed[action]!.includes(journey.status)) throw new ConflictException(`Cannot ${action} a journey that is ${journey.status}`);
    const status = action === 'pause' ? 'paused' : action === 'resume' ? 'active' : 'archived';
    await this.repo.update(workspaceId, id, { status, pausedReason: action === 'pause' ? 'paused by user' : null });
    this.catalog.invalidate(workspaceId);
    if (action === 'archive') {
      for (;;) {
        const ids = await this.store.activeInstanceIds(workspaceId, id, 500);
        if (!ids.length) break;
        await this.runner.deliver(ids.map((instanceId) => ({ instanceId, input: { type: 'stop' as const, kind: 'paused_archived', reason: 'journey archived' } })));
      }
    }
    return this.get(workspaceId, id);
  }

  async versions(workspaceId: string, id: string): Promise<JourneyVersion[]> {
    await this.get(workspaceId, id);
    return this.repo.versions(workspaceId, id);
  }

  async version(workspaceId: string, id: string, version: number): Promise<JourneyVersion> {
    const v = await this.repo.version(id, version);
    if (!v || v.workspaceId !== workspaceId) throw new NotFoundException(`Version ${version} of journey ${id} not found`);
    return v;
  }

  /**
   * Moves active instances of `fromVersion` to `version`: an instance on a mapped node continues
   * at the mapped node of the new version at once (a wait there starts over); others stay put.
   */
  async migrate(workspaceId: string, id: string, version: number, dto: MigrateDto): Promise<{ migrated: number }> {
    const target = await this.version(workspaceId, id, version);
    await this.version(workspaceId, id, dto.fromVersion);
    const def = target.definition as unknown as JourneyDefinition;
    const errors = Object.entries(dto.stepMap).filter(([, to]) => typeof to !== 'string' || !def.nodes[to]).map(([from, to]) => ({ path: `stepMap.${from}`, messages: [`${String(to)} is not a node of version ${version}`] }));
    if (errors.length) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: 'Invalid step map', errors });
    let migrated = 0;
    for (const [from, to] of Object.entries(dto.stepMap)) {
      for (;;) {
        const moved = await this.store.transaction(async (c) => {
          const ids = await this.store.moveToVersion(c, workspaceId, id, dto.fromVersion, from, version, 500);
          const hooks = await this.runner.deliverIn(c, ids.map((instanceId) => ({ instanceId, input: { type: 'goto' as const, node: to, reason: `migrated from v${dto.fromVersion}:${from} to v${version}:${to}` } })));
          return { ids, hooks };
        });
        this.runner.dispatch(moved.hooks);
        migrated += moved.ids.length;
        if (moved.ids.length < 500) break;
      }
    }
    return { migrated };
  }

  async trigger(workspaceId: string, id: string, dto: TriggerJourneyDto): Promise<{ instanceId: string | null; entered: boolean }> {
    const journey = await this.get(workspaceId, id);
    if (journey.status !== 'active' || !journey.currentVersion) throw new ConflictException(`Journey ${id} is ${journey.status}: only an active journey can be triggered`);
    const active = (await this.catalog.activeJourneys(workspaceId)).find((j) => j.id === id) ?? { id, version: journey.currentVersion, name: journey.name, definition: (await this.catalog.definition(id, journey.currentVersion))! };
    if (active.definition.trigger.type !== 'api') throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: 'This journey is not API-triggered', errors: [{ path: 'trigger.type', messages: [`is ${active.definition.trigger.type}, not api`] }] });
    const instanceId = await this.triggers.triggerApi(workspaceId, active, dto.contactId, dto.payload ?? {}, dto.requestId ?? uuidv7());
    return { instanceId, entered: instanceId !== null };
  }

  async simulate(workspaceId: string, id: string, dto: SimulateDto): Promise<SimulationResult> {
    const journey = await this.get(workspaceId, id);
    const definition = (dto.version ? (await this.version(workspaceId, id, dto.version)).definition : journey.draft) as unknown as JourneyDefinition;
    const errors = validateDefinition(definition);
    if (errors.length) throw invalid(errors);
    const contactId = dto.contact?.id ?? '00000000-0000-4000-8000-000000000001';
    let stored: { attributes: Record<string, unknown>; timezone?: string | null; consent: Record<string, string>; segments: string[] } = { attributes: {}, consent: {}, segments: [] };
    if (dto.contact?.id) {
      const loaded = (await this.store.loadContacts(this.store.poolForReads(), workspaceId, [dto.contact.id], 0)).get(dto.contact.id)!;
      stored = { attributes: loaded.view.attributes, timezone: loaded.view.timezone, consent: loaded.view.consent, segments: [...loaded.segments] };
    }
    const start = dto.start ? new Date(dto.start) : new Date();
    const rules = await this.catalog.workspaceRules(workspaceId);
    return simulate({
      definition,
      journeyId: id,
      contact: { id: contactId, attributes: { ...stored.attributes, ...dto.contact?.attributes }, timezone: dto.contact?.timezone ?? stored.timezone, consent: { ...stored.consent, ...dto.contact?.consent }, segments: dto.contact?.segments ?? stored.segments },
      trigger: dto.payload ?? {},
      events: (dto.events ?? []).map((e) => ({ at: e.at, name: e.name, properties: e.properties ?? {} })),
      start,
      ...(dto.until ? { until: new Date(dto.until) } : {}),
      ...(dto.webhookResponses ? { webhookResponses: dto.webhookResponses } : {}),
      workspace: rules,
    });
  }

  recipes(): { name: string; title: string; description: string }[] {
    return RECIPES.map(({ name, title, description }) => ({ name, title, description }));
  }

  async installRecipe(workspaceId: string, name: string): Promise<Journey> {
    const recipe = RECIPES.find((r) => r.name === name);
    if (!recipe) throw new NotFoundException(`No recipe ${name}; known: ${RECIPES.map((r) => r.name).join(', ')}`);
    return this.repo.create({ id: uuidv7(), workspaceId, name: recipe.title, draft: structuredClone(recipe.definition) });
  }

  async settings(workspaceId: string): Promise<Pick<WorkspaceSettings, 'quietHours' | 'frequencyCaps' | 'timezone'>> {
    const s = await this.repo.settings(workspaceId);
    return { timezone: s?.timezone ?? 'UTC', quietHours: s?.quietHours ?? null, frequencyCaps: s?.frequencyCaps ?? [] };
  }

  async saveSettings(workspaceId: string, dto: SettingsDto): Promise<Pick<WorkspaceSettings, 'quietHours' | 'frequencyCaps' | 'timezone'>> {
    const current = await this.settings(workspaceId);
    const errors: DefinitionError[] = [];
    if (dto.timezone !== undefined && !isValidTimeZone(dto.timezone)) errors.push({ path: 'timezone', messages: ['must be an IANA time zone'] });
    if (dto.quietHours) for (const k of ['start', 'end'] as const) if (parseTimeOfDay(dto.quietHours[k]) === undefined) errors.push({ path: `quietHours.${k}`, messages: ['must be HH:MM'] });
    dto.frequencyCaps?.forEach((c, i) => {
      if (c.window !== 'local_day' && parseDuration(c.window) === undefined) errors.push({ path: `frequencyCaps.${i}.window`, messages: ['must be a duration like 24h or local_day'] });
    });
    if (errors.length) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: 'Validation failed', errors });
    const saved = await this.repo.saveSettings(workspaceId, {
      timezone: dto.timezone ?? current.timezone,
      quietHours: dto.quietHours === undefined ? (current.quietHours as object | null) : dto.quietHours ? { ...dto.quietHours } : null,
      frequencyCaps: dto.frequencyCaps ? dto.frequencyCaps.map((c) => ({ ...c })) : (current.frequencyCaps as object[]),
    });
    this.catalog.invalidate(workspaceId);
    return { timezone: saved.timezone, quietHours: saved.quietHours, frequencyCaps: saved.frequencyCaps };
  }
}
