import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsObject, IsOptional, IsString, IsUUID, Length, Max, MaxLength, Min } from 'class-validator';

export class SegmentBodyDto {
  @ApiProperty({ example: 'Repeat buyers in Brazil' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  /** `{ "version": 1, "root": <node> }`; validated node by node (see the service README). */
  @ApiProperty({ type: 'object', additionalProperties: true, example: { version: 1, root: { type: 'attribute', attribute: 'country', valueType: 'string', operator: 'equals', value: 'BR' } } })
  @IsObject()
  definition!: Record<string, unknown>;
}

export class PreviewDto {
  @ApiProperty({ type: 'object', additionalProperties: true })
  @IsObject()
  definition!: Record<string, unknown>;

  @ApiPropertyOptional({ default: 20, maximum: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(100)
  sampleSize?: number;
}

export class IdParamDto {
  @ApiProperty()
  @IsUUID()
  id!: string;
}

export class MembersQueryDto {
  @ApiPropertyOptional({ description: 'Cursor from the previous page (nextCursor)' })
  @IsOptional()
  @IsUUID()
  cursor?: string;

  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class ExportQueryDto {
  @ApiPropertyOptional({ enum: ['csv', 'ndjson'], default: 'ndjson' })
  @IsOptional()
  @IsIn(['csv', 'ndjson'])
  format?: 'csv' | 'ndjson';
}

export class HistoryQueryDto {
  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}
