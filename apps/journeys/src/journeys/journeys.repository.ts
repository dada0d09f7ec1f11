import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import type { Campaign, Journey, JourneyVersion, Prisma, WorkspaceSettings } from '../generated/prisma/client';

/** Journeys, versions, settings and campaigns (the editable side; the runtime lives in InstanceStoreRepository). */
@Injectable()
export class JourneysRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(data: { id: string; workspaceId: string; name: string; draft: object }): Promise<Journey> {
    return this.prisma.journey.create({ data });
  }

  find(workspaceId: string, id: string): Promise<Journey | null> {
    return this.prisma.journey.findFirst({ where: { id, workspaceId } });
  }

  list(workspaceId: string): Promise<Journey[]> {
    return this.prisma.journey.findMany({ where: { workspaceId }, orderBy: { createdAt: 'asc' } });
  }

  update(workspaceId: string, id: string, data: Prisma.JourneyUpdateManyMutationInput): Promise<number> {
    return this.prisma.journey.updateMany({ where: { id, workspaceId }, data: { ...data, updatedAt: new Date() } }).then((r) => r.count);
  }

  /** Publishing: the next version number, the immutable copy and the journey's pointer, in one transaction. */
  publish(workspaceId: string, id: string, definition: object): Promise<JourneyVersion> {
    return this.prisma.$transaction(async (tx) => {
      const journey = await tx.journey.findFirstOrThrow({ where: { id, workspaceId } });
      const version = (journey.currentVersion ?? 0) + 1;
      const created = await tx.journeyVersion.create({ data: { journeyId: id, version, workspaceId, definition } });
      await tx.journey.update({ where: { id }, data: { currentVersion: version, status: 'active', pausedReason: null, updatedAt: new Date() } });
      return created;
    });
  }

  /** Pauses an active journey with a reason the API shows; false when it was not active. */
  async pauseForReason(workspaceId: string, id: string, reason: string): Promise<boolean> {
    const r = await this.prisma.journey.updateMany({ where: { id, workspaceId, status: 'active' }, data: { status: 'paused', pausedReason: reason, updatedAt: new Date() } });
    return r.count > 0;
  }

  versions(workspaceId: string, journeyId: string): Promise<JourneyVersion[]> {
    return this.prisma.journeyVersion.findMany({ where: { workspaceId, journeyId }, orderBy: { version: 'asc' } });
  }

  version(journeyId: string, version: number): Promise<JourneyVersion | null> {
    return this.prisma.journeyVersion.findUnique({ where: { journeyId_version: { journeyId, version } } });
  }

  /** Journeys that take new entries, with the definition of their current version. */
  async activeJourneys(workspaceId: string): Promise<{ id: string; version: number; definition: unknown; name: string }[]> {
    const journeys = await this.prisma.journey.findMany({ where: { workspaceId, status: 'active', currentVersion: { not: null } } });
    if (!journeys.length) return [];
    const versions = await this.prisma.journeyVersion.findMany({ where: { OR: journeys.map((j) => ({ journeyId: j.id, version: j.currentVersion! })) } });
    return versions.map((v) => ({ id: v.journeyId, version: v.version, definition: v.definition, name: journeys.find((j) => j.id === v.journeyId)!.name }));
  }

  settings(workspaceId: string): Promise<WorkspaceSettings | null> {
    return this.prisma.workspaceSettings.findUnique({ where: { workspaceId } });
  }

  saveSettings(workspaceId: string, data: { quietHours: object | null; frequencyCaps: object[]; timezone: string }): Promise<WorkspaceSettings> {
    const values = { quietHours: data.quietHours ?? undefined, frequencyCaps: data.frequencyCaps, timezone: data.timezone, updatedAt: new Date() };
    return this.prisma.workspaceSettings.upsert({ where: { workspaceId }, create: { workspaceId, ...values }, update: { ...values, quietHours: data.quietHours ?? (null as unknown as undefined) } });
  }

  createCampaign(data: Prisma.CampaignCreateInput): Promise<Campaign> {
    return this.prisma.campaign.create({ data });
  }

  findCampaign(workspaceId: string, id: string): Promise<Campaign | null> {
    return this.prisma.campaign.findFirst({ where: { id, workspaceId } });
  }

  listCampaigns(workspaceId: string): Promise<Campaign[]> {
    return this.prisma.campaign.findMany({ where: { workspaceId }, orderBy: { createdAt: 'desc' } });
  }

  async instances(workspaceId: string, where: { journeyId?: string; contactId?: string; status?: string }, limit: number): Promise<object[]> {
    return this.prisma.instance.findMany({ where: { workspaceId, ...where }, orderBy: { enteredAt: 'desc' }, take: limit });
  }

  async instanceWithHistory(workspaceId: string, id: string): Promise<{ instance: object; history: object[] } | null> {
    const instance = await this.prisma.instance.findFirst({ where: { id, workspaceId } });
    if (!instance) return null;
    const history = await this.prisma.instanceStep.findMany({ where: { instanceId: id }, orderBy: { id: 'asc' } });
    return { instance, history: history.map((h) => ({ node: h.nodeId, outcome: h.outcome, reason: h.reason, at: h.at })) };
  }

  /** Per-step counts (history rows by node and outcome) and instance counts by status. */
  async stats(workspaceId: string, journeyId: string): Promise<{ steps: { node: string; outcome: string; count: number }[]; instances: Record<string, number>; goals: number }> {
    const steps = await this.prisma.instanceStep.groupBy({ by: ['nodeId', 'outcome'], where: { journeyId }, _count: { _all: true } });
    const instances = await this.prisma.instance.groupBy({ by: ['status'], where: { workspaceId, journeyId }, _count: { _all: true } });
    const byStatus = Object.fromEntries(instances.map((i) => [i.status, i._count._all]));
    return { steps: steps.map((s) => ({ node: s.nodeId, outcome: s.outcome, count: s._count._all })), instances: byStatus, goals: byStatus.converted ?? 0 };
  }

  knownSegments(workspaceId: string): Promise<{ segmentId: string }[]> {
    return this.prisma.segmentMember.findMany({ where: { workspaceId }, distinct: ['segmentId'], select: { segmentId: true } });
  }
}
