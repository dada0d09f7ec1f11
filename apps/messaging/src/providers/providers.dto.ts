import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { PROVIDER_CHANNELS, type ProviderChannel } from '@tessera/provider-core';

export class CreateProviderConfigDto {
  @ApiProperty({ example: 'Transactional SMTP' })
  @IsString()
  @Length(1, 120)
  name!: string;

  @ApiProperty({ enum: PROVIDER_CHANNELS })
  @IsIn(PROVIDER_CHANNELS)
  channel!: ProviderChannel;

  @ApiProperty({ description: 'Plug-in id: smtp, twilio, whatsapp_cloud, fcm, webhook', example: 'smtp' })
  @IsString()
  @Matches(/^[a-z0-9_-]{1,50}$/)
  providerId!: string;

  @ApiProperty({ description: "The plug-in's options (validated against its schema; secrets are stored and never returned)", type: 'object', additionalProperties: true })
  @IsObject()
  options!: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Tried first for its channel' })
  @IsOptional()
  @IsBoolean()
  isDefault?: boolean;

  @ApiPropertyOptional({ description: 'Fallback order (lower first)', default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10_000)
  priority?: number;

  @ApiPropertyOptional({ description: 'Token-bucket rate limit, messages per second per replica' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  rateLimitPerSecond?: number;
}

export class ProviderConfigView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() channel!: string;
  @ApiProperty() providerId!: string;
  @ApiProperty({ description: 'Options with secrets shown as "(stored)"', type: 'object', additionalProperties: true }) options!: Record<string, unknown>;
  @ApiProperty() isDefault!: boolean;
  @ApiProperty() priority!: number;
  @ApiPropertyOptional() rateLimitPerSecond?: number | null;
}
