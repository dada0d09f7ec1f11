import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';

@Injectable()
export class SourcesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Creates the source unless one with this id exists; true when it was created. */
  async createIfAbsent(source: { id: string; workspaceId: string; name: string; writeKeyHash: string }): Promise<boolean> {
    const inserted = await this.prisma.$executeRaw`INSERT INTO source (id, workspace_id, name, write_key_hash) VALUES (${source.id}::uuid, ${source.workspaceId}::uuid, ${source.name}, ${source.writeKeyHash}) ON CONFLICT (id) DO NOTHING`;
    return inserted > 0;
  }
}
