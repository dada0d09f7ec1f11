import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsUrl, Max, Min } from 'class-validator';

/** Options every HTTP vendor shares: where the vendor lives (configurable, so tests and proxies work) and how long to wait. */
export class HttpProviderOptions {
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  baseUrl!: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60_000)
  timeoutMs: number = 10_000;
}
