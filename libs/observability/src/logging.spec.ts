import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logging';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (chunks.push(String(chunk)), done()) });
  return { stream, lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l)) };
}

describe('createLogger', () => {
  it('writes JSON with the service name and redacts secrets and personal data at any depth', () => {
    const out = capture();
    const logger = createLogger({ service: 'crm', destination: out.stream });
    logger.info({ email: 'ann@example.com', contact: { phone: '+15551234567', traits: { plan: 'pro' } }, req: { headers: { authorization: 'Bearer tsk_x' } } }, 'hello');
    const [line] = out.lines();
    expect(line).toMatchObject({ service: 'crm', level: 'info', msg: 'hello', email: '[redacted]' });
    expect(JSON.stringify(line)).not.toMatch(/ann@example|5551234567|tsk_x|"plan"/);
  });
});
