import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsObject, IsOptional, IsString, IsUUID, Matches, Max, Min } from 'class-validator';

export class CreateObjectTypeDto {
  @ApiProperty({ example: 'order' })
  @IsString()
  @Matches(/^[a-z][a-z0-9_]{0,62}$/, { message: 'name is lower-case letters, digits and _ (max 63), starting with a letter' })
  name!: string;

  @ApiProperty({ example: { orderNo: { type: 'string', required: true }, total: { type: 'number' } }, description: 'field name -> { type, required }' })
  @IsObject()
  fields!: Record<string, unknown>;
}

export class CreateRecordDto {
  @ApiPropertyOptional({ description: 'The contact this record belongs to' })
  @IsOptional()
  @IsUUID()
  contactId?: string;

  @ApiProperty()
  @IsObject()
  data!: Record<string, unknown>;
}

export class PatchRecordDto {
  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @IsUUID()
  contactId?: string | null;

  @ApiPropertyOptional({ description: 'Fields to change; null unsets an optional field' })
  @IsOptional()
  @IsObject()
  data?: Record<string, unknown>;
}

export class ListRecordsQuery {
  @ApiPropertyOptional() @IsOptional() @IsUUID() contactId?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() cursor?: string;
  @ApiPropertyOptional({ default: 100 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}

export class ObjectTypeView {
  @ApiProperty() name!: string;
  @ApiProperty() fields!: Record<string, unknown>;
  @ApiProperty() createdAt!: Date;
}

export class RecordView {
  @ApiProperty() id!: string;
  @ApiProperty() type!: string;
  @ApiPropertyOptional() contactId!: string | null;
  @ApiProperty() data!: Record<string, unknown>;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}

export class RecordPage {
  @ApiProperty({ type: [RecordView] }) items!: RecordView[];
  @ApiPropertyOptional() nextCursor?: string;
}
