import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional, IsString, Length, Validate, type ValidatorConstraintInterface, ValidatorConstraint } from 'class-validator';
import { ALL_SCOPES } from '@tessera/service-kit';

@ValidatorConstraint({ name: 'timeZone' })
export class IsTimeZone implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: value });
      return true;
    } catch {
      return false;
    }
  }

  defaultMessage(): string {
    return 'timezone must be an IANA time zone such as Europe/Berlin';
  }
}

export class CreateWorkspaceDto {
  @ApiProperty({ example: 'Acme EU' })
  @IsString()
  @Length(1, 120)
  name!: string;

  @ApiPropertyOptional({ example: 'Europe/Berlin', default: 'UTC' })
  @IsOptional()
  @Validate(IsTimeZone)
  timezone?: string;
}

export class CreateApiKeyDto {
  @ApiProperty({ example: 'journeys backend' })
  @IsString()
  @Length(1, 120)
  name!: string;

  @ApiProperty({ example: ['crm:read', 'analytics:read'], description: '`*`, or `<area>:read|write` for areas crm, ingestion, segmentation, journeys, messaging, analytics, keys, platform' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(ALL_SCOPES, { each: true })
  scopes!: string[];
}

export class ApiKeyView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'First characters of the key, to tell keys apart' }) prefix!: string;
  @ApiProperty() scopes!: string[];
  @ApiProperty() createdAt!: Date;
  @ApiPropertyOptional() revokedAt?: Date | null;
}

export class CreatedApiKeyView extends ApiKeyView {
  @ApiProperty({ description: 'The key itself. Shown only in this response; store it now.' }) key!: string;
}

export class WorkspaceView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() timezone!: string;
  @ApiProperty() isDefault!: boolean;
  @ApiProperty() createdAt!: Date;
}

export class CreatedWorkspaceView {
  @ApiProperty() workspace!: WorkspaceView;
  @ApiProperty({ description: 'An admin key (scope `*`) of the new workspace, shown only once' }) adminKey!: CreatedApiKeyView;
}
