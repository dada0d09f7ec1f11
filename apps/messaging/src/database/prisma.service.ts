import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { BaseConfig } from '@tessera/config';
import { prismaClientOptions } from '@tessera/db';
import { SERVICE_CONFIG } from '@tessera/service-kit';
import { PrismaClient } from '../generated/prisma/client';

/** The messaging service's Prisma client, bound to the `crm` schema. Only repositories use it. */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(SERVICE_CONFIG) config: BaseConfig) {
    super(prismaClientOptions(config.DATABASE_URL, 'messaging'));
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
