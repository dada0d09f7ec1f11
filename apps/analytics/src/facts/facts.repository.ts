import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import type { Fact, Prisma } from '../generated/prisma/client';

@Injectable()
export class FactsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** One multi-row insert per batch; a redelivered event hits its primary key and is skipped. */
  async insertMany(facts: Prisma.FactCreateManyInput[]): Promise<number> {
    const { count } = await this.prisma.fact.createMany({ data: facts, skipDuplicates: true });
    return count;
  }

  list(workspaceId: string, filter: { subject?: string; contactId?: string; limit: number }): Promise<Fact[]> {
    return this.prisma.fact.findMany({
      where: { workspaceId, ...(filter.subject ? { subject: filter.subject } : {}), ...(filter.contactId ? { contactId: filter.contactId } : {}) },
      orderBy: { occurredAt: 'desc' },
      take: filter.limit,
    });
  }
}
