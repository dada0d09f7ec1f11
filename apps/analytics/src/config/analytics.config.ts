import { Transform } from 'class-transformer';
import { IsArray, IsBoolean, IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { Type } from 'class-transformer';
import { BaseConfig } from '@tessera/config';

const toList = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value);
const toBool = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? ['1', 'true', 'yes'].includes(value.toLowerCase()) : value);

export class AnalyticsConfig extends BaseConfig {
  /** Event property keys whose values are counted per day ("top properties"): a bounded set, never free-form. */
  @Transform(toList)
  @IsArray()
  @IsString({ each: true })
  @Matches(/^[A-Za-z0-9_.$-]{1,100}$/, { each: true })
  ANALYTICS_PROPERTY_KEYS: string[] = ['plan', 'category', 'product_id', 'source', 'utm_source', 'utm_campaign', 'currency'];

  /** How often the continuous exporter looks for new facts when idle. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(60_000)
  EXPORT_POLL_MS: number = 1000;

  /** First retry delay of a failing export destination (doubles per failure, capped at 5 min). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(60_000)
  EXPORT_RETRY_BASE_MS: number = 1000;

  /** Dev mode: export destinations may use http:// on localhost (never in production). */
  @Transform(toBool)
  @IsBoolean()
  EXPORT_ALLOW_LOCAL_HTTP: boolean = false;
}
