import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsISO8601, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { BUCKETS, type BucketSize } from './time-buckets';

export class RangeQuery {
  @ApiProperty({ example: '2026-11-01T00:00:00Z' })
  @IsISO8601()
  from!: string;

  @ApiProperty({ example: '2026-12-01T00:00:00Z', description: 'Exclusive end' })
  @IsISO8601()
  to!: string;

  @ApiPropertyOptional({ enum: BUCKETS, default: 'day' })
  @IsOptional()
  @IsIn(BUCKETS)
  bucket?: BucketSize;

  @ApiPropertyOptional({ enum: ['json', 'csv'], description: 'csv also with `Accept: text/csv`' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

export const MESSAGING_GROUPS = ['channel', 'template', 'journey', 'campaign'] as const;

export class MessagingReportQuery extends RangeQuery {
  @ApiPropertyOptional({ enum: MESSAGING_GROUPS })
  @IsOptional()
  @IsIn(MESSAGING_GROUPS)
  groupBy?: (typeof MESSAGING_GROUPS)[number];
}

export class JourneyReportQuery extends RangeQuery {
  @ApiPropertyOptional({ default: 168, description: 'A goal counts as a conversion when reached within this many hours of entry' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(24 * 365)
  attributionWindowHours?: number;
}

export class EventsReportQuery extends RangeQuery {
  @ApiPropertyOptional({ description: 'Only this event name (track name, or `page:<name>` / `screen:<name>`)' })
  @IsOptional()
  @IsString()
  @MaxLength(300)
  name?: string;
}

export class SegmentReportQuery extends RangeQuery {}
