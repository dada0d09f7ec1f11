import { describe, expect, it } from 'vitest';
import { bump, updatedData } from './contact-events';
import type { ContactRow } from './contact-store.repository';

const row = (over: Partial<ContactRow> = {}): ContactRow => ({
  id: '0193a1b2-0000-7000-8000-000000000001',
  workspaceId: '0193a1b2-0000-7000-8000-0000000000aa',
  externalId: 'user-1',
  email: null,
  phone: null,
  timezone: null,
  locale: null,
  attributes: {},
  attrTs: {},
  version: '1',
  mergedInto: null,
  erasedAt: null,
  createdAt: new Date('2026-01-01T00:00:00.000Z'),
  updatedAt: new Date('2026-01-01T00:00:00.000Z'),
  ...over,
});

describe('updatedData', () => {
  it('carries only the fields and attributes that changed, and what was unset', () => {
    const before = row({ email: 'a@example.com', attributes: { plan: 'pro', score: 1, tags: ['a'], address: { city: 'Berlin' }, gone: true } });
    const after = bump(before, { email: null, locale: 'de-DE', attributes: { plan: 'pro', score: 2, tags: ['a'], address: { city: 'Bonn' } } }, new Date('2026-01-02T00:00:00.000Z'));
    expect(updatedData(before, after)).toEqual({
      contactId: before.id,
      fields: { locale: 'de-DE' },
      attributes: { score: 2, address: { city: 'Bonn' } },
      unset: ['email', 'attributes.gone'],
      version: '2',
      updatedAt: '2026-01-02T00:00:00.000Z',
    });
  });

  it('is undefined when equal values were written again (lists and objects compared by content)', () => {
    const before = row({ attributes: { plan: 'pro', n: 0, tags: ['a', 'b'], address: { city: 'Berlin' } } });
    const after = bump(before, { attributes: { plan: 'pro', n: 0, tags: ['a', 'b'], address: { city: 'Berlin' } } });
    expect(updatedData(before, after)).toBeUndefined();
  });
});
