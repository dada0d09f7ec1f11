import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, startIngestion, WRITE_KEY, type Harness } from './helpers';

describe('Rate limits', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startIngestion('ingrl', { RATE_LIMIT_SOURCE_EVENTS_PER_SECOND: '2', RATE_LIMIT_SOURCE_BURST: '10', RATE_LIMIT_WORKSPACE_EVENTS_PER_SECOND: '1000' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers 429 with Retry-After once a source spends its burst, and stores nothing of the refused batch', async () => {
    const batch = (tag: string): string => JSON.stringify({ batch: Array.from({ length: 10 }, (_, i) => ({ type: 'track', userId: 'u', event: 'E', messageId: `${tag}-${i}` })) });
    const post = (body: string): Promise<Response> => fetch(`${h.ingestion.url}/v1/batch`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic(WRITE_KEY) }, body });
    expect((await post(batch('first'))).status).toBe(200);
    const refused = await post(batch('second'));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const stored = await h.stored();
    expect(stored.every((e) => (e.data as { messageId: string }).messageId.startsWith('first-'))).toBe(true);
    expect(stored).toHaveLength(10);
  });
});
