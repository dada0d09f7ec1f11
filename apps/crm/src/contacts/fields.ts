import type { ContactRow } from './contact-store.repository';
import type { StandardField } from './contact-events';
import { isLocale, isTimezone, normalizeEmail, normalizePhone } from './normalize';
import type { FieldError } from './profile';

/**
 * Normalises standard fields of a write: absent stays absent, `null` unsets, the rest is
 * validated (email lower-cased, phone to E.164, IANA time zone, BCP 47 locale).
 */
export function normalizeFields(input: Partial<Record<StandardField, unknown>>, errors: FieldError[], prefix = ''): Partial<Pick<ContactRow, StandardField>> {
  const out: Partial<Pick<ContactRow, StandardField>> = {};
  const check = (field: StandardField, fn: (v: unknown) => string | undefined, message: string): void => {
    const value = input[field];
    if (value === undefined) return;
    if (value === null) {
      out[field] = null;
      return;
    }
    const normalized = fn(value);
    if (normalized === undefined) errors.push({ path: `${prefix}${field}`, messages: [message] });
    else out[field] = normalized;
  };
  check('externalId', (v) => (typeof v === 'string' && v.length > 0 && v.length <= 255 ? v : undefined), 'externalId must be a string of 1-255 characters');
  check('email', normalizeEmail, 'email must be an email address');
  check('phone', normalizePhone, 'phone must be a valid number in international form, e.g. +4915112345678');
  check('timezone', (v) => (isTimezone(v) ? v : undefined), 'timezone must be an IANA time zone, e.g. Europe/Berlin');
  check('locale', (v) => (isLocale(v) ? v : undefined), 'locale must be a BCP 47 tag, e.g. de-DE');
  return out;
}
