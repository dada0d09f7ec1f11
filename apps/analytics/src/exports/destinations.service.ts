import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import {
  CONSENT_CHANGED_V1,
  CONVERSATION_ROUTED_V1,
  CUSTOM_EVENT_PUBLISHED_V1,
  EVENT_RECEIVED_V1,
  GOAL_REACHED_V1,
  INBOUND_MESSAGE_RECEIVED_V1,
  INSTANCE_ENTERED_V1,
  INSTANCE_EXITED_V1,
  MEMBERSHIP_ENTERED_V1,
  MEMBERSHIP_EXITED_V1,
  MESSAGE_REQUESTED_V1,
  MESSAGE_STATUS_CHANGED_V1,
  STEP_COMPLETED_V1,
  STEP_COMPLETED_V2,
  UNSUBSCRIBE_REQUESTED_V1,
} from '@tessera/contracts';
import { SERVICE_CONFIG } from '@tessera/service-kit';
import type { AnalyticsConfig } from '../config/analytics.config';
import { MAPPED_SUBJECTS } from '../facts/fact-mappers';
import { checkBucketName, checkEndpointUrl, type RuleProblem } from './destination-rules';
import type { CreateDestinationDto, DestinationView } from './destinations.dto';
import { DestinationsRepository, type Destination } from './destinations.repository';

/** What a destination receives by default: every engagement and message event. */
export const DEFAULT_EXPORT_SUBJECTS: string[] = [
  EVENT_RECEIVED_V1.subject,
  MESSAGE_REQUESTED_V1.subject,
  MESSAGE_STATUS_CHANGED_V1.subject,
  UNSUBSCRIBE_REQUESTED_V1.subject,
  INBOUND_MESSAGE_RECEIVED_V1.subject,
  CONVERSATION_ROUTED_V1.subject,
  CONSENT_CHANGED_V1.subject,
  MEMBERSHIP_ENTERED_V1.subject,
  MEMBERSHIP_EXITED_V1.subject,
  INSTANCE_ENTERED_V1.subject,
  STEP_COMPLETED_V1.subject,
  STEP_COMPLETED_V2.subject,
  GOAL_REACHED_V1.subject,
  INSTANCE_EXITED_V1.subject,
  CUSTOM_EVENT_PUBLISHED_V1.subject,
];

const SECRET_FIELDS = new Set(['secret', 'secretAccessKey']);

@Injectable()
export class DestinationsService {
  constructor(
    private readonly destinations: DestinationsRepository,
    @Inject(SERVICE_CONFIG) private readonly config: AnalyticsConfig,
  ) {}

  /** Refuses bad settings at save time, each problem with its field path. */
  private check(dto: CreateDestinationDto): RuleProblem[] {
    const local = this.config.EXPORT_ALLOW_LOCAL_HTTP;
    const problems: RuleProblem[] = [];
    if (dto.kind === 'webhook') {
      if (!dto.webhook) problems.push({ path: 'webhook', message: 'is required for a webhook destination' });
      else problems.push(...checkEndpointUrl('webhook.url', dto.webhook.url, local));
      if (dto.s3) problems.push({ path: 's3', message: 'is only for s3 destinations' });
    } else {
      if (!dto.s3) problems.push({ path: 's3', message: 'is required for an s3 destination' });
      else problems.push(...checkEndpointUrl('s3.endpoint', dto.s3.endpoint, local), ...checkBucketName('s3.bucket', dto.s3.bucket));
      if (dto.webhook) problems.push({ path: 'webhook', message: 'is only for webhook destinations' });
    }
    for (const subject of dto.subjects ?? []) if (!MAPPED_SUBJECTS.includes(subject as never)) problems.push({ path: 'subjects', message: `unknown subject ${subject}` });
    return problems;
  }

  async create(workspaceId: string, dto: CreateDestinationDto): Promise<DestinationView> {
    const problems = this.check(dto);
    if (problems.length) {
      throw new BadRequestException({ message: 'invalid export destination', errors: problems.map((p) => ({ path: p.path, messages: [p.message] })) });
    }
    const generated = dto.kind === 'webhook' && !dto.webhook!.secret ? `whsec_${randomBytes(24).toString('base64url')}` : undefined;
    const settings = dto.kind === 'webhook' ? { ...dto.webhook!, secret: dto.webhook!.secret ?? generated! } : { ...dto.s3! };
    const created = await this.destinations.create({
      id: uuidv7(),
      workspaceId,
      name: dto.name,
      kind: dto.kind,
      config: settings,
      subjects: dto.subjects?.length ? dto.subjects : DEFAULT_EXPORT_SUBJECTS,
      batchSize: dto.batchSize ?? 500,
    });
    return { ...(await this.view(created)), ...(generated ? { secret: generated } : {}) };
  }

  async list(workspaceId: string): Promise<DestinationView[]> {
    return Promise.all((await this.destinations.list(workspaceId)).map((d) => this.view(d)));
  }

  async get(workspaceId: string, id: string): Promise<DestinationView> {
    const found = await this.destinations.find(workspaceId, id);
    if (!found) throw new NotFoundException(`export destination ${id} not found`);
    return this.view(found);
  }

  async setEnabled(workspaceId: string, id: string, enabled: boolean): Promise<DestinationView> {
    const updated = await this.destinations.setEnabled(workspaceId, id, enabled);
    if (!updated) throw new NotFoundException(`export destination ${id} not found`);
    return this.view(updated);
  }

  async delete(workspaceId: string, id: string): Promise<void> {
    if (!(await this.destinations.delete(workspaceId, id))) throw new NotFoundException(`export destination ${id} not found`);
  }

  private async view(d: Destination): Promise<DestinationView> {
    const lag = await this.destinations.lag(d);
    const settings = Object.fromEntries(Object.entries(d.config as Record<string, unknown>).filter(([k]) => !SECRET_FIELDS.has(k)));
    return {
      id: d.id,
      name: d.name,
      kind: d.kind,
      settings,
      subjects: d.subjects,
      batchSize: d.batchSize,
      enabled: d.enabled,
      status: !d.enabled ? 'disabled' : d.failures > 0 ? 'retrying' : 'ok',
      deliveredCount: Number(d.deliveredCount),
      failures: d.failures,
      lastError: d.lastError,
      lastErrorAt: d.lastErrorAt?.toISOString() ?? null,
      lastSuccessAt: d.lastSuccessAt?.toISOString() ?? null,
      nextAttemptAt: d.nextAttemptAt.toISOString(),
      lagEvents: lag.events,
      lagSeconds: lag.seconds,
    };
  }
}
