import { IsBoolean, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

export class WorkspaceCreatedV1 {
  @IsUUID()
  workspaceId!: string;

  @IsString()
  @MaxLength(120)
  name!: string;

  /** IANA time zone in which the workspace's reports and calendar days are counted. */
  @IsString()
  timezone!: string;

  @IsBoolean()
  isDefault!: boolean;
}

export const WORKSPACE_CREATED_V1 = defineEvent({
  subject: eventSubject('crm', 'workspace', 'created', 1),
  payload: WorkspaceCreatedV1,
  description: 'A workspace (tenant) was created. Services that keep per-workspace settings start from this.',
  partitionKey: 'workspaceId',
});
