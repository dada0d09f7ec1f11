import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Matches } from 'class-validator';
import { ATTRIBUTE_TYPES, type AttributeType, type UnknownAttributePolicy } from '../contacts/profile';

export class CreateAttributeDefinitionDto {
  @ApiProperty({ example: 'lifetime_value' })
  @IsString()
  @Matches(/^[A-Za-z_][A-Za-z0-9_.-]{0,99}$/, { message: 'name starts with a letter or _ and holds letters, digits, _ . - (max 100)' })
  name!: string;

  @ApiProperty({ enum: ATTRIBUTE_TYPES })
  @IsIn(ATTRIBUTE_TYPES)
  type!: AttributeType;
}

export class AttributeDefinitionView {
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ATTRIBUTE_TYPES }) type!: AttributeType;
  @ApiProperty({ description: 'Created automatically from the first value written' }) inferred!: boolean;
  @ApiProperty() createdAt!: Date;
}

export class CrmSettingsDto {
  @ApiProperty({ enum: ['create', 'reject'], description: 'What a write of an undefined attribute does: create a definition with the inferred type, or 400' })
  @IsIn(['create', 'reject'])
  unknownAttributes!: UnknownAttributePolicy;
}
