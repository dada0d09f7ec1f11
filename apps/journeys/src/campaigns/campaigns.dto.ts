import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsISO8601, IsObject, IsOptional, IsString, IsUUID, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';

export class CampaignActionDto {
  @ApiProperty({ enum: ['send', 'journey'] }) @IsIn(['send', 'journey']) type!: 'send' | 'journey';
  @ApiPropertyOptional() @IsOptional() @IsIn(['email', 'sms', 'whatsapp', 'push', 'webhook']) channel?: 'email' | 'sms' | 'whatsapp' | 'push' | 'webhook';
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(255) templateId?: string;
  @ApiPropertyOptional() @IsOptional() @IsObject() overrides?: Record<string, unknown>;
  @ApiPropertyOptional() @IsOptional() @IsObject() data?: Record<string, unknown>;
  @ApiPropertyOptional() @IsOptional() @IsUUID() journeyId?: string;
}

export class CreateCampaignDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(200) name!: string;
  @ApiProperty() @IsUUID() segmentId!: string;
  @ApiProperty() @ValidateNested() @Type(() => CampaignActionDto) action!: CampaignActionDto;
  @ApiProperty({ description: 'When to send. With localTime, its date and wall-clock time apply in each contact\'s time zone' }) @IsISO8601() scheduledAt!: string;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() localTime?: boolean;
  @ApiPropertyOptional({ description: 'Messages (or journey starts) per second' }) @IsOptional() @IsInt() @Min(1) @Max(100_000) ratePerSecond?: number;
}

export class TestSendDto {
  @ApiProperty() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(50) @IsUUID('all', { each: true }) contactIds!: string[];
}
