import { EVENT_RECEIVED_V1, IDENTIFY_RECEIVED_V1 } from '@tessera/contracts';
import type { IngestItem } from '../tracking/ingest.service';

export interface MapContext {
  sourceId: string;
  receivedAt: Date;
}

/** What a provider's payload becomes: events to publish, or nothing we model (stored, acknowledged). */
export interface Mapped {
  items: IngestItem[];
  /** Set when (part of) the payload is of a type we do not map; it is archived, not published. */
  unhandled?: string;
}

export interface Identity {
  userId?: string;
  anonymousId?: string;
  email?: string;
}

/** A track event from a webhook, keyed by the identity the mapper found. */
export function trackItem(ctx: MapContext, who: Identity, messageId: string, name: string, properties: Record<string, unknown>, occurredAt: Date, provider: string): IngestItem {
  const routingKey = (who.userId ?? who.anonymousId)!;
  const timestamp = Number.isNaN(occurredAt.getTime()) ? ctx.receivedAt.toISOString() : occurredAt.toISOString();
  return {
    subject: EVENT_RECEIVED_V1.subject,
    messageId,
    occurredAt: timestamp,
    data: {
      type: 'track',
      name,
      properties,
      messageId,
      ...(who.userId ? { userId: who.userId } : {}),
      ...(who.anonymousId ? { anonymousId: who.anonymousId } : {}),
      routingKey,
      timestamp,
      receivedAt: ctx.receivedAt.toISOString(),
      sourceId: ctx.sourceId,
      context: { library: { name: `webhook-${provider}` }, ...(who.email ? { traits: { email: who.email } } : {}) },
    },
  };
}

export function identifyItem(ctx: MapContext, who: Identity, messageId: string, traits: Record<string, unknown>, occurredAt: Date, provider: string): IngestItem {
  const timestamp = Number.isNaN(occurredAt.getTime()) ? ctx.receivedAt.toISOString() : occurredAt.toISOString();
  return {
    subject: IDENTIFY_RECEIVED_V1.subject,
    messageId,
    occurredAt: timestamp,
    data: {
      traits,
      messageId,
      ...(who.userId ? { userId: who.userId } : {}),
      ...(who.anonymousId ? { anonymousId: who.anonymousId } : {}),
      routingKey: (who.userId ?? who.anonymousId)!,
      timestamp,
      receivedAt: ctx.receivedAt.toISOString(),
      sourceId: ctx.sourceId,
      context: { library: { name: `webhook-${provider}` } },
    },
  };
}

/** Emails are identities: compared lower-cased and trimmed. */
export function normaliseEmail(value: unknown): string | undefined {
  return typeof value === 'string' && value.includes('@') ? value.trim().toLowerCase() : undefined;
}
