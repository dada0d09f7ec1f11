import { BadRequestException, Injectable, NotFoundException, type OnModuleInit } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { v5 as uuidv5, v7 as uuidv7 } from 'uuid';
import { MESSAGE_REQUESTED_V1 } from '@tessera/contracts';
import type { Campaign } from '../generated/prisma/client';
import { JourneysRepository } from '../journeys/journeys.repository';
import type { DueTimer } from '../runtime/instance-store.repository';
import { emptyBatch, InstanceStoreRepository } from '../runtime/instance-store.repository';
import { JourneyCatalog } from '../runtime/journey-catalog.service';
import { JOURNEYS_UUID_NS, JourneyRunner, type EntryRequest, type WebhookJob } from '../runtime/journey-runner.service';
import { TimerPoller } from '../runtime/timer-poller.service';
import { fastOutboxRow as outboxRow } from '../runtime/fast-outbox';
import { TemplateCheck } from '../journeys/template-check';
import { CampaignsRepository, type CampaignRow } from './campaigns.repository';
import type { CreateCampaignDto, TestSendDto } from './campaigns.dto';

/** Earliest zone offset (UTC+14): a local-time campaign starts fanning out this much before its nominal instant. */
const LOCAL_TIME_LEAD_MS = 14 * 3_600_000;

/** Broadcasts: a message or a journey start for every member of a segment, scheduled, throttled, local-time optional. */
@Injectable()
export class CampaignsService implements OnModuleInit {
  constructor(
    private readonly repo: JourneysRepository,
    private readonly campaigns: CampaignsRepository,
    private readonly store: InstanceStoreRepository,
    private readonly catalog: JourneyCatalog,
    private readonly runner: JourneyRunner,
    private readonly timers: TimerPoller,
    private readonly templates: TemplateCheck,
  ) {}

  onModuleInit(): void {
    this.timers.register('campaign_start', (list, c) => this.start(list, c));
    this.timers.register('campaign_send', (list, c) => this.send(list, c));
  }

  async create(workspaceId: string, dto: CreateCampaignDto): Promise<Campaign> {
    await this.checkAction(workspaceId, dto.action);
    const id = uuidv7();
    const campaign = await this.repo.createCampaign({
      id,
      workspaceId,
      name: dto.name,
      segmentId: dto.segmentId,
      action: JSON.parse(JSON.stringify(dto.action)) as object,
      scheduledAt: new Date(dto.scheduledAt),
      localTime: dto.localTime ?? false,
      ratePerSecond: dto.ratePerSecond ?? 100,
    });
    const due = new Date(campaign.scheduledAt.getTime() - (campaign.localTime ? LOCAL_TIME_LEAD_MS : 0));
    await this.campaigns.scheduleStart(workspaceId, id, due);
    return campaign;
  }

  async get(workspaceId: string, id: string): Promise<Campaign> {
    const c = await this.repo.findCampaign(workspaceId, id);
    if (!c) throw new NotFoundException(`Campaign ${id} not found`);
    return c;
  }

  list(workspaceId: string): Promise<Campaign[]> {
    return this.repo.listCampaigns(workspaceId);
  }

  async cancel(workspaceId: string, id: string): Promise<Campaign> {
    await this.get(workspaceId, id);
    await this.campaigns.cancel(workspaceId, id);
    return this.get(workspaceId, id);
  }

  /** Sends to a few named contacts now (each call sends again: test keys are unique per call). */
  async testSend(workspaceId: string, id: string, dto: TestSendDto): Promise<{ requested: number }> {
    const c = await this.get(workspaceId, id);
    const row: CampaignRow = { id: c.id, workspace_id: c.workspaceId, segment_id: c.segmentId, action: c.action as CampaignRow['action'], scheduled_at: c.scheduledAt, local_time: c.localTime, rate_per_second: c.ratePerSecond, status: c.status };
    const run = uuidv7();
    const hooks = await this.store.transaction((client) => this.act(client, row, dto.contactIds, `test:${run}`, true));
    this.runner.dispatch(hooks);
    return { requested: dto.contactIds.length };
  }

  private async checkAction(workspaceId: string, action: CreateCampaignDto['action']): Promise<void> {
    const errors: { path: string; messages: string[] }[] = [];
    if (action.type === 'send') {
      if (!action.channel) errors.push({ path: 'action.channel', messages: ['is required for a send'] });
      if (!action.templateId) errors.push({ path: 'action.templateId', messages: ['is required for a send'] });
      if (action.channel && action.templateId) errors.push(...(await this.templates.check(workspaceId, [{ path: 'action.templateId', templateId: action.templateId, channel: action.channel }])).errors);
    } else if (!action.journeyId) errors.push({ path: 'action.journeyId', messages: ['is required to start a journey'] });
    else if (!(await this.catalog.activeJourneys(workspaceId)).some((j) => j.id === action.journeyId)) errors.push({ path: 'action.journeyId', messages: ['must be an active journey'] });
    if (errors.length) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: 'Validation failed', errors });
  }

  private async start(timers: DueTimer[], c: PoolClient): Promise<WebhookJob[]> {
    for (const campaign of await this.campaigns.load(c, timers.map((t) => t.campaign_id!))) {
      if (campaign.status !== 'scheduled') continue;
      const rules = await this.catalog.workspaceRules(campaign.workspace_id);
      await this.campaigns.fanOut(c, campaign, rules.timezone);
    }
    return [];
  }

  private async send(timers: DueTimer[], c: PoolClient): Promise<WebhookJob[]> {
    const byCampaign = new Map<string, string[]>();
    for (const t of timers) if (t.campaign_id && t.contact_id) byCampaign.set(t.campaign_id, [...(byCampaign.get(t.campaign_id) ?? []), t.contact_id]);
    const hooks: WebhookJob[] = [];
    const counts = new Map<string, number>();
    for (const campaign of await this.campaigns.load(c, [...byCampaign.keys()])) {
      if (campaign.status !== 'running') continue;
      const contacts = byCampaign.get(campaign.id)!;
      hooks.push(...(await this.act(c, campaign, contacts, 'live', false)));
      counts.set(campaign.id, contacts.length);
    }
    await this.campaigns.countRequested(c, counts);
    return hooks;
  }

  /** The campaign's action for these contacts, in the caller's transaction. */
  private async act(c: PoolClient, campaign: CampaignRow, contactIds: string[], run: string, test: boolean): Promise<WebhookJob[]> {
    const a = campaign.action;
    if (a.type === 'journey') {
      const journey = (await this.catalog.activeJourneys(campaign.workspace_id)).find((j) => j.id === a.journeyId);
      if (!journey) return [];
      const entries: EntryRequest[] = contactIds.map((contactId) => ({ workspaceId: campaign.workspace_id, journeyId: journey.id, version: journey.version, definition: journey.definition, contactId, entryKey: '', trigger: { campaignId: campaign.id, test }, triggerType: 'campaign', triggerId: `campaign:${campaign.id}:${run}`, campaignId: campaign.id }));
      return (await this.runner.enterIn(c, entries)).hooks;
    }
    const now = new Date().toISOString();
    const rows = contactIds.map((contactId) => {
      const requestId = `campaign:${campaign.id}:${run}:${contactId}`;
      return outboxRow(
        'journeys',
        MESSAGE_REQUESTED_V1.subject,
        { requestId, contactId, channel: a.channel as 'email', templateId: a.templateId!, data: { ...(a.data ?? {}), campaign: { id: campaign.id, test } }, ...(a.overrides ? { overrides: a.overrides } : {}), campaignId: campaign.id },
        { workspaceId: campaign.workspace_id, id: uuidv5(`message:${requestId}`, JOURNEYS_UUID_NS) },
      );
    });
    const sends = test ? [] : contactIds.map((contactId) => ({ workspaceId: campaign.workspace_id, contactId, channel: a.channel!, journeyId: null, at: now }));
    await this.store.writeBatch(c, { ...emptyBatch(), outbox: rows, sends });
    return [];
  }
}
