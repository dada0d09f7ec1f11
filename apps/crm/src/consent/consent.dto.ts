import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { CHANNELS, CONSENT_STATES, type Channel, type ConsentState } from '@tessera/contracts';

export class SetConsentDto {
  @ApiProperty({ enum: CONSENT_STATES })
  @IsIn(CONSENT_STATES)
  state!: ConsentState;

  @ApiPropertyOptional({ description: 'Subscription group, e.g. newsletter; absent for the whole channel' })
  @IsOptional()
  @IsString()
  @Matches(/^[\w.:-]{1,100}$/, { message: 'group is 1-100 letters, digits, _ . : -' })
  group?: string;

  @ApiPropertyOptional({ default: 'api', description: 'Where the change came from' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  source?: string;

  @ApiPropertyOptional({ description: 'When the person gave or withdrew consent (default: now)' })
  @IsOptional()
  @IsISO8601()
  changedAt?: string;
}

export class UnsubscribeTokenDto {
  @ApiProperty() @IsUUID() contactId!: string;
  @ApiProperty({ enum: CHANNELS }) @IsIn(CHANNELS) channel!: Channel;
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(/^[\w.:-]{1,100}$/) group?: string;
}

export class UnsubscribeDto {
  @ApiProperty({ description: 'Token from the unsubscribe link' })
  @IsString()
  @MaxLength(2000)
  token!: string;
}

export class ConsentEntry {
  @ApiProperty({ enum: CHANNELS }) channel!: string;
  @ApiPropertyOptional() group!: string | null;
  @ApiProperty({ enum: CONSENT_STATES }) state!: string;
  @ApiProperty() source!: string;
  @ApiProperty() changedAt!: Date;
}

export class ConsentView {
  @ApiProperty() contactId!: string;
  @ApiProperty({ type: [ConsentEntry], description: 'Current state per channel/group; channels never asked are absent' }) current!: ConsentEntry[];
  @ApiProperty({ type: [ConsentEntry] }) history!: ConsentEntry[];
}
