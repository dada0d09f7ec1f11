import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';

export class WebhookSettings {
  @ApiProperty({ example: 'https://hooks.example.com/tessera' })
  @IsString()
  @MaxLength(2000)
  url!: string;

  @ApiPropertyOptional({ description: 'HMAC-SHA256 signing secret; generated (and shown once) when absent' })
  @IsOptional()
  @IsString()
  @MinLength(16)
  @MaxLength(200)
  secret?: string;
}

export class S3Settings {
  @ApiProperty({ example: 'https://s3.eu-west-1.amazonaws.com', description: 'S3-compatible endpoint; objects are written path-style' })
  @IsString()
  @MaxLength(2000)
  endpoint!: string;

  @ApiProperty() @IsString() @MaxLength(100) bucket!: string;

  @ApiProperty({ example: 'eu-west-1' })
  @Matches(/^[a-z]{2}(-[a-z0-9]+)+-\d$|^us-east-1$|^auto$/, { message: 'region must look like eu-west-1' })
  region!: string;

  @ApiProperty() @IsString() @MinLength(3) @MaxLength(128) accessKeyId!: string;
  @ApiProperty() @IsString() @MinLength(8) @MaxLength(256) secretAccessKey!: string;

  @ApiPropertyOptional({ example: 'tessera/' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9!_.*'()/-]{0,200}$/, { message: 'prefix may hold only S3-safe characters' })
  prefix?: string;
}

export class CreateDestinationDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(120) name!: string;

  @ApiProperty({ enum: ['webhook', 's3'] })
  @IsIn(['webhook', 's3'])
  kind!: 'webhook' | 's3';

  @ApiPropertyOptional({ type: WebhookSettings })
  @IsOptional()
  @ValidateNested()
  @Type(() => WebhookSettings)
  webhook?: WebhookSettings;

  @ApiPropertyOptional({ type: S3Settings })
  @IsOptional()
  @ValidateNested()
  @Type(() => S3Settings)
  s3?: S3Settings;

  @ApiPropertyOptional({ description: 'Only these subjects; default: every engagement and message event' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  subjects?: string[];

  @ApiPropertyOptional({ default: 500 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(5000)
  batchSize?: number;
}

export class UpdateDestinationDto {
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;
}

export class DestinationView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() kind!: string;
  @ApiProperty({ description: 'Settings without secrets' }) settings!: Record<string, unknown>;
  @ApiProperty() subjects!: string[];
  @ApiProperty() batchSize!: number;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ enum: ['ok', 'retrying', 'disabled'] }) status!: string;
  @ApiProperty() deliveredCount!: number;
  @ApiProperty({ description: 'Consecutive failed attempts' }) failures!: number;
  @ApiPropertyOptional() lastError!: string | null;
  @ApiPropertyOptional() lastErrorAt!: string | null;
  @ApiPropertyOptional() lastSuccessAt!: string | null;
  @ApiProperty() nextAttemptAt!: string;
  @ApiProperty({ description: 'Facts not yet delivered (capped at 100000)' }) lagEvents!: number;
  @ApiPropertyOptional({ description: 'Age of the oldest undelivered fact, in seconds' }) lagSeconds!: number | null;
  @ApiPropertyOptional({ description: 'Only in the create response' }) secret?: string;
}
