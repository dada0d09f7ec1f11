import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';
import { BaseConfig } from '@tessera/config';

export class SegmentationConfig extends BaseConfig {
  /** Planner cost above which a definition is refused as too expensive (EXPLAIN's total cost). */
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(1)
  SEGMENT_MAX_COST = 50_000_000;

  /** Statement timeout of a preview. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60_000)
  PREVIEW_TIMEOUT_MS = 5_000;

  /** Period of the time-based evaluation job; the staleness bound of time-only changes is about this plus one tick's work. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(50)
  @Max(60_000)
  TIME_CHECK_INTERVAL_MS = 1_000;
}
