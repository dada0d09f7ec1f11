import { describe, expect, it } from 'vitest';
import { conditionProblems, isOptOutKeyword, route } from './rules';

const rules = [
  { id: 'b', kind: 'button', condition: { payload: 'talk_to_sales' }, queue: 'sales' },
  { id: 'k', kind: 'keyword', condition: { keywords: ['refund', 'invoice'] }, queue: 'billing' },
  { id: 'a', kind: 'attribute', condition: { attribute: 'tier', equals: 'vip' }, queue: 'account-managers' },
  { id: 'h', kind: 'business_hours', condition: { timezone: 'Europe/Berlin', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00', when: 'outside' }, queue: 'after-hours' },
];
const monNoonBerlin = new Date('2026-11-23T11:00:00Z');
const monNightBerlin = new Date('2026-11-23T21:00:00Z');

describe('routing rules', () => {
  it('routes by button, keyword (whole word), attribute and business hours, in priority order', () => {
    expect(route(rules, { buttonPayload: 'talk_to_sales', text: 'refund', receivedAt: monNoonBerlin })?.queue).toBe('sales');
    expect(route(rules, { text: 'I need a Refund please', receivedAt: monNoonBerlin })?.queue).toBe('billing');
    expect(route(rules, { text: 'refunding', receivedAt: monNoonBerlin })).toBeUndefined();
    expect(route(rules, { text: 'hi', attributes: { tier: 'vip' }, receivedAt: monNoonBerlin })?.queue).toBe('account-managers');
    expect(route(rules, { text: 'hi', attributes: { tier: 'basic' }, receivedAt: monNightBerlin })?.queue).toBe('after-hours');
    expect(route(rules, { text: 'hi', receivedAt: monNoonBerlin })).toBeUndefined();
  });

  it('validates conditions per kind', () => {
    expect(conditionProblems('keyword', { keywords: [] }).map((p) => p.path)).toEqual(['condition.keywords']);
    expect(conditionProblems('business_hours', { timezone: 'Mars/Base', start: '09:00', end: '17:00' }).map((p) => p.path)).toEqual(['condition.timezone']);
    expect(conditionProblems('attribute', { attribute: 'tier', equals: 'vip' })).toEqual([]);
  });

  it('recognises STOP-type keywords only as the whole message', () => {
    expect(isOptOutKeyword(' STOP ')).toBe(true);
    expect(isOptOutKeyword('please stop the noise')).toBe(false);
  });
});
