import { IsOptional, IsString, Matches } from 'class-validator';
import { BaseConfig, Sensitive } from '@tessera/config';

export class CrmConfig extends BaseConfig {
  /** HMAC key for unsubscribe-link tokens; without it the unsubscribe endpoints answer 503. */
  @IsOptional()
  @IsString()
  @Matches(/^\S{32,}$/, { message: 'CRM_UNSUBSCRIBE_SECRET must be at least 32 characters without spaces' })
  @Sensitive()
  CRM_UNSUBSCRIBE_SECRET?: string;
}
