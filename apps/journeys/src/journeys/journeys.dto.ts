import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsISO8601, IsObject, IsOptional, IsString, IsUUID, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';

export class CreateJourneyDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(200) name!: string;
  @ApiProperty({ description: 'The journey graph; see apps/journeys/README.md' }) @IsObject() definition!: Record<string, unknown>;
}

export class UpdateJourneyDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MinLength(1) @MaxLength(200) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsObject() definition?: Record<string, unknown>;
}

export class TriggerJourneyDto {
  @ApiProperty() @IsUUID() contactId!: string;
  @ApiPropertyOptional({ description: 'Usable in templates and conditions as `trigger.*`' }) @IsOptional() @IsObject() payload?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'Idempotency key: the same key never starts a second instance' }) @IsOptional() @IsString() @MaxLength(255) requestId?: string;
}

export class SimContactDto {
  @ApiPropertyOptional() @IsOptional() @IsUUID() id?: string;
  @ApiPropertyOptional() @IsOptional() @IsObject() attributes?: Record<string, unknown>;
  @ApiPropertyOptional() @IsOptional() @IsString() timezone?: string;
  @ApiPropertyOptional() @IsOptional() @IsArray() @IsUUID('all', { each: true }) segments?: string[];
  @ApiPropertyOptional() @IsOptional() @IsObject() consent?: Record<string, string>;
}

export class SimEventDto {
  @ApiProperty() @IsISO8601() at!: string;
  @ApiProperty({ description: 'Event name; `segment_exited` / `unsubscribed` with properties.segmentId / properties.channel simulate those' }) @IsString() @MaxLength(255) name!: string;
  @ApiPropertyOptional() @IsOptional() @IsObject() properties?: Record<string, unknown>;
}

export class SimulateDto {
  @ApiPropertyOptional({ description: 'A synthetic contact, or `id` of a real one (its projection is used for what is not given)' }) @IsOptional() @ValidateNested() @Type(() => SimContactDto) contact?: SimContactDto;
  @ApiPropertyOptional() @IsOptional() @IsObject() payload?: Record<string, unknown>;
  @ApiPropertyOptional({ type: [SimEventDto] }) @IsOptional() @IsArray() @ArrayMaxSize(1000) @ValidateNested({ each: true }) @Type(() => SimEventDto) events?: SimEventDto[];
  @ApiPropertyOptional() @IsOptional() @IsISO8601() start?: string;
  @ApiPropertyOptional() @IsOptional() @IsISO8601() until?: string;
  @ApiPropertyOptional({ description: 'A published version; the draft when absent' }) @IsOptional() @IsInt() @Min(1) version?: number;
  @ApiPropertyOptional() @IsOptional() @IsObject() webhookResponses?: Record<string, { status: number; body?: unknown }>;
}

export class MigrateDto {
  @ApiProperty() @IsInt() @Min(1) fromVersion!: number;
  @ApiProperty({ description: 'Old node id -> node id in the target version; contacts on unmapped nodes stay on their version' }) @IsObject() stepMap!: Record<string, string>;
}

export class QuietHoursDto {
  @ApiProperty() @IsString() start!: string;
  @ApiProperty() @IsString() end!: string;
  @ApiProperty() @IsIn(['hold', 'skip']) behavior!: 'hold' | 'skip';
}

export class FrequencyCapDto {
  @ApiProperty() @IsIn(['email', 'sms', 'whatsapp', 'push', 'webhook', '*']) channel!: string;
  @ApiProperty() @IsInt() @Min(1) @Max(1000) max!: number;
  @ApiProperty({ description: '`24h`, `7d`... or `local_day`' }) @IsString() window!: string;
}

export class SettingsDto {
  @ApiPropertyOptional() @IsOptional() @IsString() timezone?: string;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @ValidateNested() @Type(() => QuietHoursDto) quietHours?: QuietHoursDto | null;
  @ApiPropertyOptional({ type: [FrequencyCapDto] }) @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => FrequencyCapDto) frequencyCaps?: FrequencyCapDto[];
}

export class ListInstancesQuery {
  @ApiPropertyOptional() @IsOptional() @IsIn(['active', 'completed', 'exited', 'converted']) status?: string;
  @ApiPropertyOptional() @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}
