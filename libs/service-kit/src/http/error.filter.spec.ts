import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { HttpErrorFilter } from './error.filter';

/** Runs the filter on `error` and returns what it answered. */
function answer(error: unknown): { status: number; headers: Record<string, string>; body: Record<string, unknown> } {
  const sent = { status: 0, headers: {} as Record<string, string>, body: {} as Record<string, unknown> };
  const reply = {
    status(code: number) {
      sent.status = code;
      return reply;
    },
    header(name: string, value: string) {
      sent.headers[name] = value;
      return reply;
    },
    type(value: string) {
      sent.headers['content-type'] = value;
      return reply;
    },
    send(body: Record<string, unknown>) {
      sent.body = body;
      return reply;
    },
  };
  new HttpErrorFilter().catch(error, { switchToHttp: () => ({ getResponse: () => reply }) } as never);
  return sent;
}

describe('HttpErrorFilter', () => {
  it('answers 503 with Retry-After when the database is busy or restarting', () => {
    const busy = Object.assign(new Error('Transaction API error: Unable to start a transaction in the given time.'), { code: 'P2028' });
    const restarting = new Error('driver failed', { cause: Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }) });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    for (const error of [busy, restarting, refused]) {
      const sent = answer(error);
      expect(sent.status).toBe(503);
      expect(sent.headers['retry-after']).toBe('1');
      expect(sent.body.message).not.toMatch(/5432|administrator|Transaction API/);
    }
  });

  it('keeps bad input a 4xx and anything unknown a 500 that reveals nothing', () => {
    expect(answer(new BadRequestException('bad')).status).toBe(400);
    expect(answer(Object.assign(new Error('unique'), { code: 'P2002' })).status).toBe(409);
    const unknown = answer(new Error('secret detail'));
    expect(unknown).toMatchObject({ status: 500, body: { message: 'Internal error' } });
  });

  it('answers JSON even on a route that declared another content type', () => {
    expect(answer(new BadRequestException('bad')).headers['content-type']).toMatch(/^application\/json/);
  });

  it('turns values Postgres cannot take (class 22: NUL bytes, malformed uuids, overflows) into 400, not 500', () => {
    const nul = Object.assign(new Error('Database error. Code: `22021`'), { code: 'P2039', meta: { driverAdapterError: { cause: { kind: 'postgres', originalCode: '22021' } } } });
    expect(answer(nul)).toMatchObject({ status: 400, body: { message: 'Invalid input value' } });
    expect(answer(Object.assign(new Error('Invalid input value: invalid input syntax for type uuid'), { code: 'P2007' })).status).toBe(400);
    expect(answer(Object.assign(new Error('too long'), { code: 'P2000' })).status).toBe(400);
    const other = Object.assign(new Error('Database error. Code: `42P01`'), { code: 'P2039', meta: { driverAdapterError: { cause: { kind: 'postgres', originalCode: '42P01' } } } });
    expect(answer(other).status).toBe(500);
  });
});
