// Steps the scenarios share: what an operator does through the management APIs, and what a
// customer's site does through the Segment SDK. Each step checks the answer it gets.
import { Analytics } from '@segment/analytics-node';
import { expect } from 'vitest';
import type { Platform } from '../support/platform';

/** The Segment SDK pointed at ingestion, as a customer's backend would use it. */
export async function withSegment(p: Platform, use: (analytics: Analytics) => void | Promise<void>): Promise<void> {
  const analytics = new Analytics({ writeKey: p.writeKey, host: p.url('ingestion'), flushInterval: 20, maxEventsInBatch: 20 });
  const failures: unknown[] = [];
  analytics.on('error', (error) => failures.push(error));
  await use(analytics);
  await analytics.closeAndFlush({ timeout: 10_000 });
  expect(failures).toEqual([]);
}

/** Creates and publishes a template; returns its name (journeys and sends refer to it). */
export async function publishTemplate(p: Platform, template: { name: string; channel: string; content: { locales: Record<string, Record<string, unknown>> }; subscriptionGroup?: string }): Promise<string> {
  const created = await p.api('messaging', 'POST', '/v1/templates', template);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const published = await p.api('messaging', 'POST', `/v1/templates/${created.body.id}/publish`);
  expect(published.status, JSON.stringify(published.body)).toBe(201);
  return template.name;
}

/** Creates a segment and waits until its first computation is done. */
export async function createSegment(p: Platform, name: string, root: Record<string, unknown>): Promise<string> {
  const created = await p.api('segmentation', 'POST', '/v1/segments', { name, definition: { version: 1, root } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  await p.eventually(async () => (await p.api('segmentation', 'GET', `/v1/segments/${id}/count`)).body?.status === 'ready', `segment ${name} computed`);
  return id;
}

/** Creates a journey and publishes it (version 1). */
export async function publishJourney(p: Platform, name: string, definition: Record<string, unknown>): Promise<string> {
  const created = await p.api('journeys', 'POST', '/v1/journeys', { name, definition });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const published = await p.api('journeys', 'POST', `/v1/journeys/${created.body.id}/publish`);
  expect(published.status, JSON.stringify(published.body)).toBeLessThan(300);
  return created.body.id as string;
}

export interface Contact {
  id: string;
  externalId?: string | null;
  email?: string | null;
  phone?: string | null;
  timezone?: string | null;
  attributes: Record<string, unknown>;
}

/** The CRM profile found by one identity (polls: profiles made from bus events appear shortly after). */
export async function profile(p: Platform, query: Record<string, string>, what = JSON.stringify(query)): Promise<Contact> {
  return p.eventually(async () => {
    const found = await p.api('crm', 'GET', `/v1/contacts/lookup?${new URLSearchParams(query)}`);
    return found.status === 200 ? (found.body as Contact) : undefined;
  }, `the CRM profile of ${what}`);
}

/**
 * Waits until messaging knows the contact (its projection, fed by CRM events), seen through the
 * public template preview: a send requested earlier would find no recipient.
 */
export async function messagingKnows(p: Platform, templateName: string, contactId: string, expectText: string): Promise<void> {
  await p.eventually(async () => {
    const preview = await p.api('messaging', 'POST', `/v1/templates/${templateName}/preview`, { contactId });
    return preview.status < 300 && JSON.stringify(preview.body).includes(expectText);
  }, `messaging's projection of contact ${contactId}`);
}

/** The journey instances of a contact. */
export async function journeyInstances(p: Platform, contactId: string): Promise<any[]> {
  const res = await p.api('journeys', 'GET', `/v1/contacts/${contactId}/journey-instances`);
  expect(res.status).toBe(200);
  return Array.isArray(res.body) ? res.body : (res.body.items ?? []);
}

/** An analytics report over the last and next hour. */
export async function report(p: Platform, path: string, query: Record<string, string> = {}): Promise<any> {
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const to = new Date(Date.now() + 3_600_000).toISOString();
  const res = await p.api('analytics', 'GET', `/v1/reports/${path}?${new URLSearchParams({ from, to, bucket: 'hour', ...query })}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** The total row of a messaging report grouped by template. */
export async function templateTotals(p: Platform, templateName: string): Promise<Record<string, number>> {
  const body = await report(p, 'messaging', { groupBy: 'template' });
  return (body.totals as Record<string, number & string>[]).find((t) => t['template'] === templateName) ?? {};
}
