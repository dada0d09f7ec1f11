import { describe, expect, it } from 'vitest';
import { withField } from './conditions';

describe('withField', () => {
  it('is { ...base, [key]: value }: the value wins, the base is left as it was', () => {
    const base = { plan: 'pro', timezone: 'Europe/Paris' };
    expect(withField(base, 'timezone', 'UTC')).toEqual({ plan: 'pro', timezone: 'UTC' });
    expect(withField(base, 'event', 'Signed Up')).toEqual({ plan: 'pro', timezone: 'Europe/Paris', event: 'Signed Up' });
    expect(base).toEqual({ plan: 'pro', timezone: 'Europe/Paris' });
  });

  it('copies a "__proto__" key of parsed input as data, as a spread does, never as the prototype', () => {
    const out = withField(JSON.parse('{"__proto__": {"admin": true}, "plan": "pro"}') as Record<string, unknown>, 'event', 'x');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect((out as { admin?: boolean }).admin).toBeUndefined();
    expect(Object.keys(out).sort()).toEqual(['__proto__', 'event', 'plan']);
  });
});
