import { createHash, createHmac } from 'node:crypto';
import type { ExportFact } from './destinations.repository';
import { signV4 } from './sigv4';

export interface WebhookConfig {
  url: string;
  secret: string;
}

export interface S3Config {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  prefix?: string;
}

const TIMEOUT_MS = 10_000;

/** What a destination receives for each fact: the stored fact (ids and categories, no personal data). */
export const exportRecord = (f: ExportFact): Record<string, unknown> => ({
  id: f.id,
  subject: f.subject,
  workspaceId: f.workspaceId,
  contactId: f.contactId,
  occurredAt: new Date(f.occurredAt).toISOString(),
  data: f.data,
});

/** Same facts, same id: a receiver can drop a redelivered batch. */
export const batchId = (facts: ExportFact[]): string =>
  createHash('sha256').update(`${facts[0]!.txid}.${facts[0]!.seq}-${facts.at(-1)!.txid}.${facts.at(-1)!.seq}`).digest('hex').slice(0, 32);

/** Stripe-style signature: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export function webhookSignature(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

async function expectOk(response: Response, what: string): Promise<void> {
  if (response.ok) return;
  const text = (await response.text().catch(() => '')).slice(0, 300);
  throw new Error(`${what} answered ${response.status}${text ? `: ${text}` : ''}`);
}

export async function deliverWebhook(destinationId: string, config: WebhookConfig, facts: ExportFact[]): Promise<void> {
  const id = batchId(facts);
  const body = JSON.stringify({ destinationId, batchId: id, events: facts.map(exportRecord) });
  const response = await fetch(config.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tessera-batch-id': id, 'x-tessera-signature': webhookSignature(config.secret, body, Math.floor(Date.now() / 1000)) },
    body,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  await expectOk(response, 'webhook');
}

/** One NDJSON object per batch: <prefix><workspace>/<yyyy>/<mm>/<dd>/<batch id>.ndjson (a retry overwrites the same key). */
export function s3Key(config: S3Config, workspaceId: string, facts: ExportFact[]): string {
  // Dated by the first fact's arrival, so a retried batch lands on the same key.
  const d = new Date(facts[0]!.receivedAt).toISOString();
  return `${config.prefix ?? ''}${workspaceId}/${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)}/${facts[0]!.txid}-${facts[0]!.seq}-${batchId(facts)}.ndjson`;
}

export async function deliverS3(workspaceId: string, config: S3Config, facts: ExportFact[]): Promise<void> {
  const body = Buffer.from(facts.map((f) => JSON.stringify(exportRecord(f))).join('\n') + '\n');
  const signed = signV4('PUT', config.endpoint, `/${config.bucket}/${s3Key(config, workspaceId, facts)}`, body, config, new Date(), { 'content-type': 'application/x-ndjson' });
  const { 'content-length': _length, host: _host, ...headers } = signed.headers;
  const response = await fetch(signed.url, { method: 'PUT', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  await expectOk(response, 's3');
}
