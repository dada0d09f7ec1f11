import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import type { Prisma } from '../generated/prisma/client';
import type { SourceKind, SourceRecord, WebhookProvider } from './source';

const SELECT = {
  id: true,
  workspaceId: true,
  name: true,
  kind: true,
  provider: true,
  allowedOrigins: true,
  signingSecret: true,
  settings: true,
  previousWriteKeyExpiresAt: true,
  createdAt: true,
  updatedAt: true,
} as const;

type Row = Prisma.SourceGetPayload<{ select: typeof SELECT }>;

function toRecord(row: Row): SourceRecord {
  return { ...row, kind: row.kind as SourceKind, provider: row.provider as WebhookProvider | null, settings: (row.settings ?? {}) as Record<string, unknown> };
}

export interface NewSource {
  id: string;
  workspaceId: string;
  name: string;
  kind: SourceKind;
  provider: WebhookProvider | null;
  writeKeyHash: string;
  allowedOrigins: string[];
  signingSecret: string | null;
  settings: Record<string, unknown>;
}

export interface SourceChanges {
  name?: string;
  allowedOrigins?: string[];
  signingSecret?: string;
  settings?: Record<string, unknown>;
}

@Injectable()
export class SourcesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Creates the source unless one with this id exists; true when it was created. */
  async createIfAbsent(source: { id: string; workspaceId: string; name: string; writeKeyHash: string }): Promise<boolean> {
    const inserted = await this.prisma.$executeRaw`INSERT INTO source (id, workspace_id, name, write_key_hash) VALUES (${source.id}::uuid, ${source.workspaceId}::uuid, ${source.name}, ${source.writeKeyHash}) ON CONFLICT (id) DO NOTHING`;
    return inserted > 0;
  }

  /** The source whose current key, or previous key still within its overlap, has this hash. */
  async findByWriteKeyHash(hash: string, now: Date): Promise<SourceRecord | undefined> {
    const row = await this.prisma.source.findFirst({
      where: { OR: [{ writeKeyHash: hash }, { previousWriteKeyHash: hash, previousWriteKeyExpiresAt: { gt: now } }] },
      select: SELECT,
    });
    return row ? toRecord(row) : undefined;
  }

  /** By id alone: webhook URLs name their source, the signature then proves the sender. */
  async findById(id: string): Promise<SourceRecord | undefined> {
    const row = await this.prisma.source.findUnique({ where: { id }, select: SELECT });
    return row ? toRecord(row) : undefined;
  }

  async create(source: NewSource): Promise<SourceRecord> {
    return toRecord(await this.prisma.source.create({ data: { ...source, settings: source.settings as Prisma.InputJsonValue }, select: SELECT }));
  }

  async list(workspaceId: string): Promise<SourceRecord[]> {
    return (await this.prisma.source.findMany({ where: { workspaceId }, orderBy: { createdAt: 'asc' }, select: SELECT })).map(toRecord);
  }

  async get(workspaceId: string, id: string): Promise<SourceRecord | undefined> {
    const row = await this.prisma.source.findFirst({ where: { workspaceId, id }, select: SELECT });
    return row ? toRecord(row) : undefined;
  }

  async update(workspaceId: string, id: string, changes: SourceChanges): Promise<SourceRecord | undefined> {
    const { settings, ...rest } = changes;
    const result = await this.prisma.source.updateMany({ where: { workspaceId, id }, data: { ...rest, ...(settings ? { settings: settings as Prisma.InputJsonValue } : {}) } });
    return result.count ? this.get(workspaceId, id) : undefined;
  }

  /** New key in, current key kept as the previous one until `previousExpiresAt`. */
  async rotateWriteKey(workspaceId: string, id: string, newHash: string, previousExpiresAt: Date): Promise<SourceRecord | undefined> {
    const updated = await this.prisma.$executeRaw`UPDATE source SET previous_write_key_hash = write_key_hash, previous_write_key_expires_at = ${previousExpiresAt}, write_key_hash = ${newHash}, updated_at = now() WHERE workspace_id = ${workspaceId}::uuid AND id = ${id}::uuid`;
    return updated ? this.get(workspaceId, id) : undefined;
  }

  async delete(workspaceId: string, id: string): Promise<boolean> {
    return (await this.prisma.source.deleteMany({ where: { workspaceId, id } })).count > 0;
  }
}
