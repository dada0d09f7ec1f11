import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsISO8601, IsObject, IsOptional, IsString, IsUUID, Length, Max, Min } from 'class-validator';

export class CreateContactDto {
  @ApiPropertyOptional({ description: "The customer's own user id, unique per workspace", example: 'user-123' })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  externalId?: string;

  @ApiPropertyOptional({ example: 'ann@example.com' })
  @IsOptional()
  @IsEmail()
  @Length(3, 254)
  email?: string;

  @ApiPropertyOptional({ description: 'International form; stored as E.164', example: '+4915112345678' })
  @IsOptional()
  @IsString()
  @Length(3, 40)
  phone?: string;

  @ApiPropertyOptional({ description: 'IANA time zone', example: 'Europe/Berlin' })
  @IsOptional()
  @IsString()
  timezone?: string;

  @ApiPropertyOptional({ description: 'BCP 47', example: 'de-DE' })
  @IsOptional()
  @IsString()
  locale?: string;

  @ApiPropertyOptional({ example: { plan: 'pro' } })
  @IsOptional()
  @IsObject()
  attributes?: Record<string, unknown>;
}

/** A PATCH: `null` unsets a field; attributes take values or `{ $inc }`, `{ $add }`, `{ $remove }`. */
export class PatchContactDto {
  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  externalId?: string | null;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @IsEmail()
  email?: string | null;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @IsString()
  phone?: string | null;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @IsString()
  timezone?: string | null;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @IsString()
  locale?: string | null;

  @ApiPropertyOptional({ example: { plan: 'pro', logins: { $inc: 1 }, interests: { $add: ['golf'] }, old: null } })
  @IsOptional()
  @IsObject()
  attributes?: Record<string, unknown>;
}

export class MergeContactsDto {
  @ApiProperty({ description: 'The surviving profile' })
  @IsUUID()
  contactId!: string;

  @ApiProperty({ description: 'The profile merged into it (kept as a pointer)' })
  @IsUUID()
  mergedContactId!: string;
}

export class ListContactsQuery {
  @ApiPropertyOptional() @IsOptional() @IsEmail() email?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() externalId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() tag?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() list?: string;
  @ApiPropertyOptional() @IsOptional() @IsISO8601() updatedSince?: string;
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' }) @IsOptional() @IsUUID() cursor?: string;
  @ApiPropertyOptional({ default: 100 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}

export class LookupQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() externalId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() email?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() phone?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() anonymousId?: string;
}

export class ContactView {
  @ApiProperty() id!: string;
  @ApiPropertyOptional() externalId?: string | null;
  @ApiPropertyOptional() email?: string | null;
  @ApiPropertyOptional() phone?: string | null;
  @ApiPropertyOptional() timezone?: string | null;
  @ApiPropertyOptional() locale?: string | null;
  @ApiProperty() attributes!: Record<string, unknown>;
  @ApiPropertyOptional({ type: [String] }) tags?: string[];
  @ApiProperty() version!: string;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}

export class ContactPage {
  @ApiProperty({ type: [ContactView] }) items!: ContactView[];
  @ApiPropertyOptional() nextCursor?: string;
}
