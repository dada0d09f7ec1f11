import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { RULE_KINDS, type RuleKind } from './rules';

export class CreateRoutingRuleDto {
  @ApiProperty() @IsString() @Length(1, 120) name!: string;
  @ApiProperty({ enum: RULE_KINDS }) @IsIn(RULE_KINDS) kind!: RuleKind;
  @ApiProperty({ description: 'See routing/rules.ts: keywords[] | attribute+equals | timezone+days+start+end+when | payload', type: 'object', additionalProperties: true })
  @IsObject()
  condition!: Record<string, unknown>;
  @ApiProperty({ example: 'account-managers' }) @IsString() @Length(1, 100) queue!: string;
  @ApiPropertyOptional({ default: 100 }) @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(100_000) priority?: number;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() enabled?: boolean;
}

export class UpdateConversationDto {
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 255) assignee?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 100) queue?: string;
  @ApiPropertyOptional({ enum: ['open', 'closed'] }) @IsOptional() @IsIn(['open', 'closed']) status?: 'open' | 'closed';
}
