import { Type } from 'class-transformer';
import { IsArray, IsEnum, IsInt, IsOptional, IsString, Min, ValidateNested } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { classSchemas } from './class-schemas';

enum FixtureChannel {
  Email = 'email',
  Sms = 'sms',
}
enum FixturePriority {
  Low,
  High,
}

class FixtureLineV1 {
  @IsString()
  sku!: string;
}

class FixtureOrderV1 {
  @ValidateNested()
  @Type(() => FixtureLineV1)
  first!: FixtureLineV1;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => FixtureLineV1)
  lines!: FixtureLineV1[];

  @IsEnum(FixtureChannel)
  channel!: FixtureChannel;

  @IsEnum(FixturePriority)
  priority!: FixturePriority;

  @IsOptional()
  @IsString()
  note?: string;

  // `@IsInt` is registered first here, the order in which the library alone would report `number`.
  @Min(1)
  @IsInt()
  quantity!: number;
}

class FixtureUndecoratedV1 {
  valid!: boolean;
}

describe('classSchemas', () => {
  it('follows nested classes and arrays of them, lists enum values and leaves optional fields out of required', () => {
    expect(classSchemas([FixtureOrderV1], '#/definitions/')).toEqual({
      FixtureOrderV1: {
        type: 'object',
        properties: {
          first: { $ref: '#/definitions/FixtureLineV1' },
          lines: { type: 'array', items: { $ref: '#/definitions/FixtureLineV1' } },
          channel: { type: 'string', enum: ['email', 'sms'] },
          priority: { type: 'number', enum: [0, 1] },
          note: { type: 'string' },
          quantity: { type: 'integer', minimum: 1 },
        },
        required: ['first', 'lines', 'channel', 'priority', 'quantity'],
      },
      FixtureLineV1: { type: 'object', properties: { sku: { type: 'string' } }, required: ['sku'] },
    });
  });

  it('refuses a class without decorators rather than documenting it as empty', () => {
    expect(() => classSchemas([FixtureUndecoratedV1], '#/definitions/')).toThrow(/FixtureUndecoratedV1 has no class-validator decorators/);
  });
});
