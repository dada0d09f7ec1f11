import { describe, expect, it } from 'vitest';
import { checkFields, checkRecord, type ObjectFields } from './object-schema';

const order: ObjectFields = { no: { type: 'string', required: true }, total: { type: 'number' } };

describe('object schema', () => {
  it('checks a type definition', () => {
    expect(checkFields({ no: { type: 'string', required: true } })).toEqual([]);
    expect(checkFields({ '1x': { type: 'text' } }).map((e) => e.path).sort()).toEqual(['fields.1x', 'fields.1x.type']);
  });

  it('checks records, whole and partial', () => {
    expect(checkRecord(order, { no: 'A', total: 1 }, false)).toEqual({ data: { no: 'A', total: 1 }, errors: [] });
    expect(checkRecord(order, { total: '1', x: 1 }, false).errors.map((e) => e.path).sort()).toEqual(['data.no', 'data.total', 'data.x']);
    expect(checkRecord(order, { total: null }, true, { no: 'A', total: 2 }).data).toEqual({ no: 'A' });
    expect(checkRecord(order, { no: null }, true, { no: 'A' }).errors[0]!.path).toBe('data.no');
  });
});
