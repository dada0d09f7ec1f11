import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, IsUUID, Length, Matches, Min } from 'class-validator';
import { PROVIDER_CHANNELS, type ProviderChannel } from '@tessera/provider-core';

const CONTENT_DOC =
  'Per-locale parts: { "locales": { "default": {...}, "pt-BR": {...} } }. email: subject, html, text; sms: body; ' +
  'whatsapp: text | templateName + language + parameters[] | text + buttons[{id,title}]; push: title, body, data{}; webhook: payload (a JSON text template).';

export class CreateTemplateDto {
  @ApiProperty({ example: 'order-shipped' })
  @IsString()
  @Length(1, 120)
  name!: string;

  @ApiProperty({ enum: PROVIDER_CHANNELS })
  @IsIn(PROVIDER_CHANNELS)
  channel!: ProviderChannel;

  @ApiProperty({ description: CONTENT_DOC, type: 'object', additionalProperties: true })
  @IsObject()
  content!: { locales: Record<string, Record<string, unknown>> };

  @ApiPropertyOptional({ description: 'Dotted paths a render must have, e.g. contact.email, event.orderId', type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, { each: true })
  requiredVariables?: string[];

  @ApiPropertyOptional({ description: 'Subscription group checked against consent (e.g. newsletter)' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  subscriptionGroup?: string;
}

export class UpdateTemplateDto {
  @ApiPropertyOptional({ description: CONTENT_DOC, type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  content?: { locales: Record<string, Record<string, unknown>> };

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @Matches(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, { each: true })
  requiredVariables?: string[];
}

export class PreviewTemplateDto {
  @ApiPropertyOptional({ description: 'Render for this contact (from the projection)' })
  @IsOptional()
  @IsUUID()
  contactId?: string;

  @ApiPropertyOptional({ description: 'Sample data: merged over the contact (contact.*, event.*, journey.*)', type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  data?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Version to render; the draft when absent' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  version?: number;

  @ApiPropertyOptional({ example: 'pt-BR' })
  @IsOptional()
  @IsString()
  locale?: string;
}

export class PutPartialDto {
  @ApiProperty({ description: 'Handlebars source; layouts use {{> @partial-block}}' })
  @IsString()
  @Length(0, 200_000)
  body!: string;
}
