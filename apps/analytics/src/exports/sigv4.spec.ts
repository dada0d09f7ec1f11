import aws4 from 'aws4';
import { describe, expect, it } from 'vitest';
import { signV4 } from './sigv4';

describe('signV4', () => {
  it('produces the same Authorization as the aws4 reference implementation', () => {
    const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', region: 'eu-west-1' };
    const body = Buffer.from('{"a":1}\n{"b":"é"}\n');
    const now = new Date('2026-11-22T21:00:00.000Z');
    const mine = signV4('PUT', 'http://127.0.0.1:9000', '/my-bucket/exports/ws/2026/11/22/1-2.ndjson', body, creds, now, { 'content-type': 'application/x-ndjson' });
    const reference = aws4.sign(
      {
        host: '127.0.0.1:9000',
        method: 'PUT',
        path: '/my-bucket/exports/ws/2026/11/22/1-2.ndjson',
        service: 's3',
        region: 'eu-west-1',
        body,
        headers: { 'x-amz-date': '20261122T210000Z', 'x-amz-content-sha256': mine.headers['x-amz-content-sha256']!, 'content-type': 'application/x-ndjson' },
      },
      creds,
    );
    expect(mine.headers.authorization).toBe((reference.headers as Record<string, string>)['Authorization']);
    expect(mine.url).toBe('http://127.0.0.1:9000/my-bucket/exports/ws/2026/11/22/1-2.ndjson');
  });
});
