import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import type { Prisma, ProviderConfig } from '../generated/prisma/client';

/** The only code that touches provider_config. */
@Injectable()
export class ProvidersRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Creates a config; a new default displaces the channel's old one in the same transaction. */
  async create(data: Prisma.ProviderConfigUncheckedCreateInput): Promise<ProviderConfig> {
    return this.prisma.$transaction(async (tx) => {
      if (data.isDefault) await tx.providerConfig.updateMany({ where: { workspaceId: data.workspaceId, channel: data.channel, isDefault: true }, data: { isDefault: false } });
      return tx.providerConfig.create({ data });
    });
  }

  list(workspaceId: string): Promise<ProviderConfig[]> {
    return this.prisma.providerConfig.findMany({ where: { workspaceId }, orderBy: [{ channel: 'asc' }, { isDefault: 'desc' }, { priority: 'asc' }] });
  }

  /** Every workspace's configurations (start-up validation only). */
  all(): Promise<ProviderConfig[]> {
    return this.prisma.providerConfig.findMany();
  }

  find(workspaceId: string, id: string): Promise<ProviderConfig | null> {
    return this.prisma.providerConfig.findFirst({ where: { workspaceId, id } });
  }

  /** The channel's providers in the order they are tried: default, then by priority. */
  forChannel(workspaceId: string, channel: string): Promise<ProviderConfig[]> {
    return this.prisma.providerConfig.findMany({ where: { workspaceId, channel, enabled: true }, orderBy: [{ isDefault: 'desc' }, { priority: 'asc' }, { createdAt: 'asc' }] });
  }

  async delete(workspaceId: string, id: string): Promise<boolean> {
    return (await this.prisma.providerConfig.deleteMany({ where: { workspaceId, id } })).count > 0;
  }
}
