import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class ArchiveQueryDto {
  @ApiPropertyOptional({ description: 'Events of this userId' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  userId?: string;

  @ApiPropertyOptional({ description: 'Events of this anonymousId' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  anonymousId?: string;

  @ApiPropertyOptional({ description: 'Received at or after (ISO 8601); default 24 h ago' })
  @IsOptional()
  @IsISO8601()
  from?: string;

  @ApiPropertyOptional({ description: 'Received before (ISO 8601); default now' })
  @IsOptional()
  @IsISO8601()
  to?: string;

  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class ReplayDto {
  @ApiProperty({ description: 'Received at or after (ISO 8601)' })
  @IsISO8601()
  from!: string;

  @ApiProperty({ description: 'Received before (ISO 8601)' })
  @IsISO8601()
  to!: string;
}

export class ArchivedEventView {
  @ApiProperty() id!: string;
  @ApiProperty() receivedAt!: string;
  @ApiProperty() subject!: string;
  @ApiProperty({ description: 'The envelope as published' }) envelope!: Record<string, unknown>;
}

export class ReplayResultView {
  @ApiProperty({ description: 'Events published again (same ids: consumers and JetStream drop the ones they have)' }) republished!: number;
  @ApiProperty({ description: 'Archived payloads that were never published (unmapped webhooks), skipped' }) skipped!: number;
}
