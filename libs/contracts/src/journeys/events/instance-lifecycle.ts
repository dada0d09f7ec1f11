import { IsInt, IsISO8601, IsOptional, IsString, IsUUID, MaxLength, Min } from 'class-validator';

/** Fields every journey instance lifecycle event carries. */
export class InstanceEventBase {
  @IsUUID()
  instanceId!: string;

  @IsUUID()
  journeyId!: string;

  @IsInt()
  @Min(1)
  journeyVersion!: number;

  @IsUUID()
  contactId!: string;

  @IsISO8601()
  at!: string;

  @IsOptional()
  @IsString()
  @MaxLength(255)
  campaignId?: string;
}
