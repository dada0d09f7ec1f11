import { describe, expect, it } from 'vitest';
import { dateTriggerDue } from '../runtime/triggers.service';
import { localParts, nextLocalTime, quietUntil, zonedToUtc } from './time';

describe('time zones', () => {
  it('converts local wall-clock times to instants, across DST', () => {
    expect(zonedToUtc(2026, 1, 15, 10, 0, 'America/New_York').toISOString()).toBe('2026-01-15T15:00:00.000Z');
    expect(zonedToUtc(2026, 7, 15, 10, 0, 'America/New_York').toISOString()).toBe('2026-07-15T14:00:00.000Z');
    expect(zonedToUtc(2026, 3, 29, 12, 0, 'Europe/Berlin').toISOString()).toBe('2026-03-29T10:00:00.000Z');
    expect(localParts(new Date('2026-01-01T23:30:00Z'), 'Asia/Kolkata')).toMatchObject({ day: 2, hour: 5, minute: 0 });
  });

  it('finds the next local time of day and the end of a quiet window that wraps midnight', () => {
    expect(nextLocalTime(new Date('2026-01-01T12:00:00Z'), 9 * 60, 'Asia/Tokyo').toISOString()).toBe('2026-01-02T00:00:00.000Z');
    const start = 21 * 60;
    const end = 8 * 60;
    expect(quietUntil(new Date('2026-01-01T22:00:00Z'), 'UTC', start, end)?.toISOString()).toBe('2026-01-02T08:00:00.000Z');
    expect(quietUntil(new Date('2026-01-01T12:00:00Z'), 'UTC', start, end)).toBeUndefined();
  });

  it('computes date-attribute entries: days before a date at a local time, and yearly anniversaries', () => {
    const now = new Date('2026-05-01T00:00:00Z');
    expect(dateTriggerDue('2026-06-10', -3, '10:00', 'Europe/Paris', now, false)?.toISOString()).toBe('2026-06-07T08:00:00.000Z');
    expect(dateTriggerDue('2026-04-10', -3, '10:00', 'UTC', now, false)).toBeNull();
    expect(dateTriggerDue('1990-03-15', 0, '09:00', 'UTC', now, true)?.toISOString()).toBe('2027-03-15T09:00:00.000Z');
    expect(dateTriggerDue('1990-08-15', 0, '09:00', 'UTC', now, true)?.toISOString()).toBe('2026-08-15T09:00:00.000Z');
    expect(dateTriggerDue('not a date', 0, '09:00', 'UTC', now, true)).toBeNull();
  });
});
