import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, IsUUID, Max, Min } from 'class-validator';

export class ListFactsQuery {
  @ApiPropertyOptional({ example: 'crm.contact.created.v1' })
  @IsOptional()
  @IsString()
  subject?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  contactId?: string;

  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class FactView {
  @ApiProperty({ description: 'The id of the bus event this fact records' }) id!: string;
  @ApiProperty() subject!: string;
  @ApiPropertyOptional() contactId?: string | null;
  @ApiProperty() occurredAt!: Date;
  @ApiProperty() data!: unknown;
}
