import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import type { FactView } from './facts.dto';

@Injectable()
export class FactsRepository {
  constructor(private readonly prisma: PrismaService) {}

  list(workspaceId: string, filter: { subject?: string; contactId?: string; limit: number }): Promise<FactView[]> {
    return this.prisma.fact.findMany({
      where: { workspaceId, ...(filter.subject ? { subject: filter.subject } : {}), ...(filter.contactId ? { contactId: filter.contactId } : {}) },
      orderBy: { occurredAt: 'desc' },
      take: filter.limit,
      select: { id: true, subject: true, contactId: true, occurredAt: true, data: true },
    });
  }
}
