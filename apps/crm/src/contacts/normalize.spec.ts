import { describe, expect, it } from 'vitest';
import { isLocale, isTimezone, normalizeEmail, normalizePhone } from './normalize';

describe('normalize', () => {
  it('lower-cases valid emails and refuses others', () => {
    expect(normalizeEmail(' Ann@Example.COM ')).toBe('ann@example.com');
    expect(normalizeEmail('nope')).toBeUndefined();
  });

  it('formats phones as E.164', () => {
    expect(normalizePhone('+49 (151) 123-45678')).toBe('+4915112345678');
    expect(normalizePhone('+1 12')).toBeUndefined();
    expect(normalizePhone('015112345678')).toBeUndefined();
  });

  it('knows IANA zones and BCP 47 locales', () => {
    expect([isTimezone('Europe/Berlin'), isTimezone('Mars/Olympus'), isLocale('de-DE'), isLocale('not a locale')]).toEqual([true, false, true, false]);
  });
});
