import { describe, expect, it } from 'vitest';
import { providerConformanceSuite } from '@tessera/provider-core/testing';
import { smtpEmail } from './smtp.provider';
import { SmtpSink } from './testing/smtp-sink';

const credentials = { user: 'mailer', password: 'smtp-secret' };

providerConformanceSuite({
  definition: smtpEmail,
  startVendor: () => new SmtpSink(credentials).start(),
  options: (vendor, o) => ({
    host: '127.0.0.1',
    port: Number(new URL(vendor.url).port),
    requireTls: false,
    user: credentials.user,
    password: o?.wrongCredentials ? 'wrong' : credentials.password,
    from: 'news@tessera.test',
    ...(o?.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
  }),
  invalidOptions: [
    { options: { host: 'localhost', port: 70000, from: 'a@b.test' }, path: 'port' },
    { options: { host: 'localhost', from: 'not-an-address' }, path: 'from' },
  ],
  message: (n, idempotencyKey) => ({ to: `ann${n}@example.test`, subject: `Hi ${n}`, html: `<p>Hello ${n}</p>`, text: `Hello ${n}`, idempotencyKey }),
  recipientOf: (m) => m.to,
  carriesIdempotencyKey: true,
  rejectReason: /550 5\.1\.1 .*Recipient address rejected/,
});

describe('SMTP provider, read back through a real SMTP server', () => {
  it('sends subject, HTML, text and the RFC 8058 one-click unsubscribe headers', async () => {
    const sink = await new SmtpSink().start();
    const provider = smtpEmail.create(Object.assign(new smtpEmail.optionsSchema(), { host: '127.0.0.1', port: sink.port, requireTls: false, from: 'news@tessera.test' }));
    try {
      const result = await provider.send({ to: 'ann@example.test', subject: 'Grüße, Ann', html: '<h1>Hello &amp; welcome</h1>', text: 'Hello & welcome', unsubscribeUrl: 'https://t.tessera.test/v1/t/u/abc', idempotencyKey: 'msg-1' });
      const got = sink.received.find((r) => r.providerMessageId === result.providerMessageId)!;
      expect(got.mail.subject).toBe('Grüße, Ann');
      expect(got.mail.html).toContain('<h1>Hello &amp; welcome</h1>');
      expect(got.mail.text?.trim()).toBe('Hello & welcome');
      // mailparser folds List-* headers into `list`.
      expect(got.mail.headers.get('list')).toMatchObject({ unsubscribe: { url: 'https://t.tessera.test/v1/t/u/abc' } });
      expect(got.mail.headerLines.find((h) => h.key === 'list-unsubscribe-post')?.line).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
      expect(got.mail.headerLines.find((h) => h.key === 'list-unsubscribe')?.line).toBe('List-Unsubscribe: <https://t.tessera.test/v1/t/u/abc>');
    } finally {
      await provider.close();
      await sink.close();
    }
  });
});
