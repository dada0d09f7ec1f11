import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { BaseConfig } from '@tessera/config';
import { DEFAULT_WORKSPACE_ID } from '@tessera/contracts';
import { hashApiKey, SERVICE_CONFIG } from '@tessera/service-kit';
import { SourcesRepository } from './sources.repository';

/** The default workspace's first source; its id is fixed so replicas racing at first start agree. */
export const DEFAULT_SOURCE_ID = '00000000-0000-4000-8000-000000000002';

/** Write keys look like `twk_<32 url-safe characters>` (24 random bytes). */
export function generateWriteKey(): string {
  return `twk_${randomBytes(24).toString('base64url')}`;
}

@Injectable()
export class SourcesService implements OnApplicationBootstrap {
  constructor(
    private readonly repository: SourcesRepository,
    @Inject(SERVICE_CONFIG) private readonly config: BaseConfig,
  ) {}

  /** On first start with an empty database: the default source, keyed by TESSERA_WRITE_KEY or a new key. */
  async onApplicationBootstrap(): Promise<void> {
    const givenKey = this.config.TESSERA_WRITE_KEY;
    const key = givenKey ?? generateWriteKey();
    const created = await this.repository.createIfAbsent({ id: DEFAULT_SOURCE_ID, workspaceId: DEFAULT_WORKSPACE_ID, name: 'Default source', writeKeyHash: hashApiKey(key) });
    if (created && !givenKey) process.stdout.write(`\nTessera default source created. Write key (shown once): ${key}\n\n`);
  }
}
