import { describe, expect, it } from 'vitest';
import { render, RenderError } from './renderer';

const content = {
  locales: {
    default: { subject: 'Hello {{default contact.attributes.firstName "friend"}}', html: '{{#> layout}}<p>{{event.note}}</p>{{/layout}}', text: 'Total {{formatCurrency event.total "EUR"}}' },
    pt: { subject: 'Olá {{contact.attributes.firstName}}', html: '<p>pt</p>' },
  },
};
const base = { cacheKey: 'v1', channel: 'email' as const, content, requiredVariables: ['event.total'], partials: { layout: '<html><body>{{> @partial-block}}</body></html>' }, partialsKey: 'p1' };

describe('template rendering', () => {
  it('escapes HTML, applies layouts, defaults and currency formatting', () => {
    const out = render({ ...base, data: { contact: { attributes: {} }, event: { note: '<script>x</script>', total: 12.5 } } });
    expect(out).toMatchObject({ subject: 'Hello friend', html: '<html><body><p>&lt;script&gt;x&lt;/script&gt;</p></body></html>', text: 'Total €12.50', locale: 'default' });
  });

  it('falls back pt-BR -> pt -> default', () => {
    expect(render({ ...base, locale: 'pt-BR', data: { contact: { attributes: { firstName: 'Ana' } }, event: { total: 1 } } })).toMatchObject({ subject: 'Olá Ana', locale: 'pt' });
    expect(render({ ...base, locale: 'fr-FR', data: { contact: { attributes: {} }, event: { total: 1 } } }).locale).toBe('default');
  });

  it('fails clearly when a required variable is missing', () => {
    expect(() => render({ ...base, data: { contact: {} } })).toThrow(/Missing required variables: event.total/);
  });

  it('formats dates in the contact timezone and locale', () => {
    const sms = { locales: { default: { body: '{{formatDate event.at "long"}} {{#if (eq contact.attributes.tier "vip")}}VIP{{/if}}' } } };
    const out = render({ cacheKey: 'v2', channel: 'sms', content: sms, requiredVariables: [], data: { contact: { timezone: 'Asia/Tokyo', locale: 'en-US', attributes: { tier: 'vip' } }, event: { at: '2026-01-31T20:00:00Z' } } });
    expect(out).toMatchObject({ body: 'February 1, 2026 VIP' });
  });

  it('reports syntax errors as render errors', () => {
    expect(() => render({ cacheKey: 'bad', channel: 'sms', content: { locales: { default: { body: '{{#if x}}' } } }, requiredVariables: [], data: {} })).toThrow(RenderError);
  });
});
