import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsUrl, Max, Min } from 'class-validator';
import { BaseConfig } from '@tessera/config';

/** Ingestion's settings; rate limits are per replica (in-memory token buckets). */
export class IngestionConfig extends BaseConfig {
  /** Events per second one source may send to one replica (0 = unlimited). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  RATE_LIMIT_SOURCE_EVENTS_PER_SECOND: number = 5_000;

  /** Burst allowance per source, in events. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  RATE_LIMIT_SOURCE_BURST: number = 20_000;

  /** Events per second one workspace (all its sources) may send to one replica (0 = unlimited). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  RATE_LIMIT_WORKSPACE_EVENTS_PER_SECOND: number = 10_000;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  RATE_LIMIT_WORKSPACE_BURST: number = 40_000;

  /** Largest age of a webhook signature's timestamp accepted (Stripe's default tolerance). */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(86_400)
  WEBHOOK_TOLERANCE_SECONDS: number = 300;

  /** Public base URL of this service as providers call it (Twilio signs the full URL); default: from the request. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  PUBLIC_BASE_URL?: string;
}
