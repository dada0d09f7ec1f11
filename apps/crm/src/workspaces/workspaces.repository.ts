import { Injectable } from '@nestjs/common';
import { outboxData, type OutboxRow } from '@tessera/bus';
import { PrismaService } from '../database/prisma.service';
import type { ApiKey, Workspace } from '../generated/prisma/client';

export interface NewApiKey {
  id: string;
  workspaceId: string;
  name: string;
  keyHash: string;
  prefix: string;
  scopes: string[];
}

/** The only code that touches the workspace and api_key tables. */
@Injectable()
export class WorkspacesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Creates a workspace with its first key and announces it, in one transaction. Returns false
   * when the id exists already (replicas racing to create the default workspace).
   */
  async createWorkspace(workspace: Omit<Workspace, 'createdAt'>, key: NewApiKey, events: OutboxRow[]): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const inserted = await tx.$executeRaw`INSERT INTO workspace (id, name, timezone, is_default) VALUES (${workspace.id}::uuid, ${workspace.name}, ${workspace.timezone}, ${workspace.isDefault}) ON CONFLICT (id) DO NOTHING`;
      if (inserted === 0) return false;
      await tx.apiKey.create({ data: key });
      await tx.outboxMessage.createMany({ data: events.map(outboxData) });
      return true;
    });
  }

  findWorkspace(id: string): Promise<Workspace | null> {
    return this.prisma.workspace.findUnique({ where: { id } });
  }

  createKey(key: NewApiKey): Promise<ApiKey> {
    return this.prisma.apiKey.create({ data: key });
  }

  listKeys(workspaceId: string): Promise<ApiKey[]> {
    return this.prisma.apiKey.findMany({ where: { workspaceId }, orderBy: { createdAt: 'asc' } });
  }

  findLiveKeyByHash(keyHash: string): Promise<ApiKey | null> {
    return this.prisma.apiKey.findFirst({ where: { keyHash, revokedAt: null } });
  }

  /** Revokes a key of this workspace and announces it; null when no such live key exists. */
  async revokeKey(workspaceId: string, id: string, event: (key: ApiKey) => OutboxRow): Promise<ApiKey | null> {
    return this.prisma.$transaction(async (tx) => {
      const key = await tx.apiKey.findFirst({ where: { id, workspaceId, revokedAt: null } });
      if (!key) return null;
      const revoked = await tx.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
      await tx.outboxMessage.create({ data: outboxData(event(revoked)) });
      return revoked;
    });
  }
}
