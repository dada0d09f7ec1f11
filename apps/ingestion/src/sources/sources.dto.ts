import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';
import { SOURCE_KINDS, WEBHOOK_PROVIDERS, type SourceKind, type WebhookProvider } from './source';

const ORIGIN = /^https?:\/\/[^/\s]+$/;

export class CreateSourceDto {
  @ApiProperty({ example: 'Web shop' })
  @IsString()
  @Length(1, 120)
  name!: string;

  @ApiProperty({ enum: SOURCE_KINDS, example: 'tracking' })
  @IsIn(SOURCE_KINDS)
  kind!: SourceKind;

  @ApiPropertyOptional({ enum: WEBHOOK_PROVIDERS, description: 'Required for webhook sources' })
  @ValidateIf((o: CreateSourceDto) => o.kind === 'webhook' || o.provider !== undefined)
  @IsIn(WEBHOOK_PROVIDERS)
  provider?: WebhookProvider;

  @ApiPropertyOptional({ example: ['https://shop.example'], description: 'Browser origins allowed to send with the write key; empty allows any' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(ORIGIN, { each: true, message: 'each origin must look like https://host[:port]' })
  allowedOrigins?: string[];

  @ApiPropertyOptional({ description: "The provider's signing secret (Stripe whsec_..., Shopify app secret, Meta app secret, Twilio auth token); generated for generic webhooks when omitted. Shown once." })
  @IsOptional()
  @IsString()
  @Length(8, 500)
  signingSecret?: string;

  @ApiPropertyOptional({ description: 'Provider settings: { verifyToken } for WhatsApp; { mapping: { userId, anonymousId, event, messageId, timestamp, properties } } (JSON pointers or dot paths) for generic' })
  @IsOptional()
  @IsObject()
  settings?: Record<string, unknown>;
}

export class UpdateSourceDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 120)
  name?: string;

  @ApiPropertyOptional({ example: ['https://shop.example'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(ORIGIN, { each: true, message: 'each origin must look like https://host[:port]' })
  allowedOrigins?: string[];

  @ApiPropertyOptional({ description: 'Replaces the signing secret (shown masked afterwards)' })
  @IsOptional()
  @IsString()
  @Length(8, 500)
  signingSecret?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  settings?: Record<string, unknown>;
}

export class RotateWriteKeyDto {
  @ApiPropertyOptional({ default: 86_400, description: 'How long the old key keeps working, in seconds (0 = revoke at once; at most 30 days)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(30 * 86_400)
  overlapSeconds?: number;
}

export class SourceView {
  @ApiProperty() id!: string;
  @ApiProperty() workspaceId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: SOURCE_KINDS }) kind!: SourceKind;
  @ApiPropertyOptional({ enum: WEBHOOK_PROVIDERS, nullable: true }) provider!: WebhookProvider | null;
  @ApiProperty({ type: [String] }) allowedOrigins!: string[];
  @ApiPropertyOptional({ nullable: true, description: 'Masked: first and last 4 characters' }) signingSecret!: string | null;
  @ApiProperty() settings!: Record<string, unknown>;
  @ApiPropertyOptional({ nullable: true, description: 'When the write key before the last rotation stops working' }) previousWriteKeyExpiresAt!: string | null;
  @ApiPropertyOptional({ nullable: true, description: 'Path to configure at the provider, for webhook sources' }) webhookPath!: string | null;
  @ApiProperty() createdAt!: string;
}

export class CreatedSourceView extends SourceView {
  @ApiProperty({ description: 'Shown only in this answer' }) writeKey!: string;
  @ApiPropertyOptional({ nullable: true, description: 'The full signing secret, shown only in this answer' }) signingSecretValue!: string | null;
}

export class RotatedKeyView {
  @ApiProperty({ description: 'The new write key, shown only here' }) writeKey!: string;
  @ApiPropertyOptional({ nullable: true }) previousWriteKeyExpiresAt!: string | null;
}
