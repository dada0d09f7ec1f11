import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsObject, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { PROVIDER_CHANNELS, type ProviderChannel } from '@tessera/provider-core';

export class SendMessageDto {
  @ApiProperty({ description: 'A repeated request with the same key never sends twice', example: 'order-1234-shipped' })
  @IsString()
  @Length(1, 255)
  idempotencyKey!: string;

  @ApiProperty()
  @IsUUID()
  contactId!: string;

  @ApiProperty({ enum: PROVIDER_CHANNELS })
  @IsIn(PROVIDER_CHANNELS)
  channel!: ProviderChannel;

  @ApiProperty({ description: 'Template id or name' })
  @IsString()
  @Length(1, 255)
  templateId!: string;

  @ApiPropertyOptional({ description: 'Template variables besides the contact (event, order, ...)', type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  data?: Record<string, unknown>;
}

export class SuppressionDto {
  @ApiProperty({ enum: [...PROVIDER_CHANNELS, 'all'] })
  @IsIn([...PROVIDER_CHANNELS, 'all'])
  channel!: ProviderChannel | 'all';

  @ApiProperty({ description: 'Email, E.164 phone, device token, or a contact id' })
  @IsString()
  @Length(1, 320)
  address!: string;

  @ApiPropertyOptional({ default: 'manual' })
  @IsOptional()
  @Matches(/^[a-z_]{1,50}$/)
  reason?: string;
}
