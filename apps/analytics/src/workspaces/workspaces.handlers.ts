import { Injectable, Logger } from '@nestjs/common';
import { OnEvent, type Delivered } from '@tessera/bus';
import { WORKSPACE_CREATED_V1 } from '@tessera/contracts';
import { isValidTimezone } from '../reports/time-buckets';
import { WorkspacesRepository } from './workspaces.repository';

/** Learns each workspace's reporting time zone (UTC until known). */
@Injectable()
export class WorkspacesHandlers {
  private readonly logger = new Logger(WorkspacesHandlers.name);

  constructor(private readonly workspaces: WorkspacesRepository) {}

  @OnEvent(WORKSPACE_CREATED_V1.subject)
  async workspaceCreated({ data }: Delivered<typeof WORKSPACE_CREATED_V1.subject>): Promise<void> {
    const timezone = isValidTimezone(data.timezone) ? data.timezone : 'UTC';
    if (timezone !== data.timezone) this.logger.warn(`workspace ${data.workspaceId}: unknown time zone ${data.timezone}, reporting in UTC`);
    await this.workspaces.setTimezone(data.workspaceId, timezone);
  }
}
