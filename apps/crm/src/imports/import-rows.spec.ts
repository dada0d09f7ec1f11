import { describe, expect, it } from 'vitest';
import { coerceCell, splitRecord } from './import-rows';

describe('import rows', () => {
  it('splits standard fields from attributes and skips empty cells', () => {
    expect(splitRecord(2, { externalId: 'u', email: '', plan: 'pro', attributes: { a: 1 } })).toEqual({ line: 2, fields: { externalId: 'u' }, attributes: { plan: 'pro', a: 1 } });
  });

  it('coerces CSV cells to the defined type', () => {
    expect([coerceCell('42', 'number'), coerceCell('true', 'boolean'), coerceCell('a; b', 'list'), coerceCell('{"x":1}', 'object'), coerceCell('7', undefined)]).toEqual([42, true, ['a', 'b'], { x: 1 }, '7']);
    expect(coerceCell('x', 'number')).toBe('x');
  });
});
