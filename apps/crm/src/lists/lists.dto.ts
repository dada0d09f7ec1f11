import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, IsString, IsUUID, Length, MaxLength } from 'class-validator';

export class CreateListDto {
  @ApiProperty() @IsString() @Length(1, 200) name!: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) description?: string;
}

export class UpdateListDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @MaxLength(1000) description?: string | null;
}

export class AddMembersDto {
  @ApiProperty({ type: [String], description: 'Up to 10,000 contact ids' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @IsUUID('all', { each: true })
  contactIds!: string[];
}

export class ListView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiPropertyOptional() description!: string | null;
  @ApiPropertyOptional() memberCount?: number;
  @ApiProperty() createdAt!: Date;
}

export class AddMembersResult {
  @ApiProperty({ description: 'Contacts that joined the list now' }) added!: number;
  @ApiProperty({ description: 'Contacts that were members already' }) alreadyMembers!: number;
  @ApiProperty({ type: [String], description: 'Ids that name no live contact (unknown or erased); the rest were added' }) notFound!: string[];
}
