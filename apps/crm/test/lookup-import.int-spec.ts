import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, eventually, startCrm, type CrmHarness } from './helpers';

describe('CRM lookups under concurrency and imports of many batches', () => {
  let h: CrmHarness;
  beforeAll(async () => {
    h = await startCrm('crm-lookup-import');
  });
  afterAll(async () => h?.close());

  const importCsv = async (csv: string): Promise<any> => {
    const res = await fetch(`${h.crm.url}/v1/imports`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'text/csv' }, body: csv });
    expect(res.status).toBe(201);
    return res.json();
  };

  it('answers each of many concurrent lookups (coalesced into shared statements) with its own contact or 404', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => `batch-${i},batch${i}@example.com,${i}`);
    expect(await importCsv(['externalId,email,rank', ...rows].join('\n'))).toMatchObject({ status: 'completed', rowsDone: 60 });
    const queries = Array.from({ length: 120 }, (_, i) => (i % 3 === 0 ? `externalId=batch-${i % 60}` : i % 3 === 1 ? `email=BATCH${i % 60}%40example.com` : `externalId=missing-${i}`));
    const answers = await Promise.all(queries.map((q) => h.call('GET', `/v1/contacts/lookup?${q}`)));
    answers.forEach((a, i) => {
      if (i % 3 === 2) expect(a, queries[i]).toEqual({ status: 404, body: { statusCode: 404, error: 'Not Found', message: 'Contact not found' } });
      else expect(a.body, queries[i]).toMatchObject({ externalId: `batch-${i % 60}`, email: `batch${i % 60}@example.com`, attributes: { rank: String(i % 60) } });
    });
  });

  it('imports a file of several batches in file order: a later row for the same contact wins, and its events follow in that order', async () => {
    const events = h.collect('crm.contact.>');
    // 2,500 rows: three batches, two written at once; row 1,100 (second batch) updates the contact of row 1 (first).
    const rows = Array.from({ length: 2500 }, (_, i) => (i === 1099 ? 'many-0,many0@example.com,last' : `many-${i},many${i}@example.com,row-${i}`));
    expect(await importCsv(['externalId,email,note', ...rows].join('\n'))).toMatchObject({ status: 'completed', rowsDone: 2500, rowsFailed: 0 });
    const first = (await h.call('GET', '/v1/contacts/lookup?externalId=many-0')).body;
    expect(first.attributes).toEqual({ note: 'last' });
    expect((await h.call('GET', '/v1/contacts/lookup?email=many2499%40example.com')).body.attributes).toEqual({ note: 'row-2499' });
    expect((await h.call('GET', '/v1/contacts/lookup?externalId=many-1099')).status).toBe(404);
    // One contact.created per new contact (batches of them share an outbox row); the update of
    // many-0 by the second batch comes after its creation by the first.
    const ofImport = await eventually(() => {
      const mine = events.events.filter((e) => /^many-/.test(e.data.externalId ?? '') || e.data.contactId === first.id);
      return mine.length === 2500 ? mine : undefined;
    }, 15_000, 'the import\'s events');
    events.stop();
    expect(ofImport.filter((e) => e.subject === 'crm.contact.created.v1')).toHaveLength(2499);
    expect(ofImport.filter((e) => e.data.contactId === first.id).map((e) => [e.subject, e.data.attributes])).toEqual([
      ['crm.contact.created.v1', { note: 'row-0' }],
      ['crm.contact.updated.v1', { note: 'last' }],
    ]);
  });
});
