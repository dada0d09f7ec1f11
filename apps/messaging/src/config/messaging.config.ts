import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, IsUrl, Max, Min, MinLength } from 'class-validator';
import { BaseConfig, Sensitive } from '@tessera/config';

export class MessagingConfig extends BaseConfig {
  /**
   * HMAC key for open-pixel, click and unsubscribe tokens. Without it a random key is made at
   * start-up (links then die with the process, and replicas disagree): set it in production.
   */
  @IsOptional()
  @IsString()
  @MinLength(32)
  @Sensitive()
  MESSAGING_TRACKING_SECRET?: string;

  /** Public base URL of this service as recipients reach it (tracking, unsubscribe links). */
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  MESSAGING_PUBLIC_URL: string = 'http://127.0.0.1:3005';

  /** Tries per provider on transient errors before falling back (kept short: the bus redelivers). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10)
  MESSAGING_SEND_ATTEMPTS: number = 3;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(60_000)
  MESSAGING_RETRY_BASE_MS: number = 200;

  /** How long a replica holds a message it is sending before a redelivery may take it over. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3600)
  MESSAGING_SEND_LEASE_SECONDS: number = 60;
}
