import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';

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

  @ApiPropertyOptional({ description: 'E.164', example: '+4915112345678' })
  @IsOptional()
  @Matches(/^\+[1-9]\d{6,14}$/, { message: 'phone must be in E.164 form, e.g. +4915112345678' })
  phone?: string;

  @ApiPropertyOptional({ example: { plan: 'pro' } })
  @IsOptional()
  @IsObject()
  attributes?: Record<string, unknown>;
}

export class ContactView {
  @ApiProperty() id!: string;
  @ApiPropertyOptional() externalId?: string | null;
  @ApiPropertyOptional() email?: string | null;
  @ApiPropertyOptional() phone?: string | null;
  @ApiProperty() attributes!: Record<string, unknown>;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}
