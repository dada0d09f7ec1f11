import { DELIVERY_STATUS_RECEIVED_V1, INBOUND_MESSAGE_RECEIVED_V1, type DeliveryStatusReceivedV1, type InboundMessageReceivedV1 } from '@tessera/contracts';
import type { IngestItem } from '../tracking/ingest.service';
import { isRecord, str } from './json';
import type { MapContext, Mapped } from './mapper';

function inbound(ctx: MapContext, messageId: string, data: Omit<InboundMessageReceivedV1, 'receivedAt' | 'sourceId'>, occurredAt: Date): IngestItem {
  const at = Number.isNaN(occurredAt.getTime()) ? ctx.receivedAt : occurredAt;
  return { subject: INBOUND_MESSAGE_RECEIVED_V1.subject, messageId, occurredAt: at.toISOString(), data: { ...data, receivedAt: ctx.receivedAt.toISOString(), sourceId: ctx.sourceId } };
}

function status(ctx: MapContext, messageId: string, data: Omit<DeliveryStatusReceivedV1, 'sourceId'>): IngestItem {
  return { subject: DELIVERY_STATUS_RECEIVED_V1.subject, messageId, occurredAt: data.occurredAt, data: { ...data, sourceId: ctx.sourceId } };
}

const e164 = (value: string): string => (value.startsWith('+') ? value : `+${value}`);
const WHATSAPP_STATUSES = new Set(['sent', 'delivered', 'read', 'failed']);

/**
 * WhatsApp Cloud API notifications: entry[].changes[].value holds `messages` (customer wrote: text,
 * interactive button/list reply, quick-reply button) and `statuses` (sent/delivered/read/failed).
 */
export function mapWhatsApp(payload: unknown, ctx: MapContext): Mapped {
  const items: IngestItem[] = [];
  let unhandled: string | undefined;
  const entries = isRecord(payload) && Array.isArray(payload.entry) ? payload.entry : [];
  for (const entry of entries.filter(isRecord)) {
    for (const change of (Array.isArray(entry.changes) ? entry.changes : []).filter(isRecord)) {
      const value = isRecord(change.value) ? change.value : {};
      const metadata = isRecord(value.metadata) ? value.metadata : {};
      const to = str(metadata.display_phone_number) ?? str(metadata.phone_number_id) ?? 'unknown';
      for (const m of (Array.isArray(value.messages) ? value.messages : []).filter(isRecord)) {
        const id = str(m.id);
        const from = str(m.from);
        if (!id || !from) continue;
        const interactive = isRecord(m.interactive) ? m.interactive : {};
        const reply = isRecord(interactive.button_reply) ? interactive.button_reply : isRecord(interactive.list_reply) ? interactive.list_reply : undefined;
        const button = isRecord(m.button) ? m.button : undefined;
        const text = isRecord(m.text) ? str(m.text.body) : (str(reply?.title) ?? str(button?.text));
        const buttonPayload = str(reply?.id) ?? str(button?.payload);
        if (!text && !buttonPayload) unhandled = `whatsapp:message:${String(m.type)}`;
        items.push(
          inbound(ctx, `whatsapp:${id}`, { channel: 'whatsapp', provider: 'whatsapp_cloud', providerMessageId: id, from: e164(from), to, ...(text ? { text: text.slice(0, 10_000) } : {}), ...(buttonPayload ? { buttonPayload: buttonPayload.slice(0, 1000) } : {}), raw: m }, new Date(Number(m.timestamp) * 1000)),
        );
      }
      for (const s of (Array.isArray(value.statuses) ? value.statuses : []).filter(isRecord)) {
        const id = str(s.id);
        const state = str(s.status);
        if (!id || !state || !WHATSAPP_STATUSES.has(state)) {
          unhandled = `whatsapp:status:${String(s.status)}`;
          continue;
        }
        const error = Array.isArray(s.errors) && isRecord(s.errors[0]) ? s.errors[0] : undefined;
        const at = new Date(Number(s.timestamp) * 1000);
        items.push(
          status(ctx, `whatsapp:${id}:${state}`, {
            channel: 'whatsapp',
            provider: 'whatsapp_cloud',
            providerMessageId: id,
            status: state as DeliveryStatusReceivedV1['status'],
            ...(error ? { reason: String(error.title ?? error.message ?? error.code).slice(0, 1000) } : {}),
            occurredAt: (Number.isNaN(at.getTime()) ? ctx.receivedAt : at).toISOString(),
            raw: s,
          }),
        );
      }
    }
  }
  if (!items.length && !unhandled) unhandled = 'whatsapp:empty';
  return { items, unhandled };
}

const TWILIO_STATUS: Record<string, DeliveryStatusReceivedV1['status']> = { sent: 'sent', delivered: 'delivered', read: 'read', failed: 'failed', undelivered: 'failed' };

/** Twilio Messaging webhooks (form fields): an inbound SMS/WhatsApp message, or a status callback. */
export function mapTwilio(params: Record<string, string>, ctx: MapContext): Mapped {
  const sid = params.MessageSid ?? params.SmsSid;
  if (!sid) return { items: [], unhandled: 'twilio:no-sid' };
  const state = params.MessageStatus ?? params.SmsStatus;
  const from = params.From ?? '';
  const channel = from.startsWith('whatsapp:') ? 'whatsapp' : 'sms';
  const plain = (n: string): string => n.replace(/^whatsapp:/, '');
  if (state && state !== 'received' && state !== 'receiving') {
    const mapped = TWILIO_STATUS[state];
    if (!mapped) return { items: [], unhandled: `twilio:status:${state}` };
    const reason = params.ErrorMessage ?? (params.ErrorCode ? `Twilio error ${params.ErrorCode}` : undefined);
    return {
      items: [status(ctx, `twilio:${sid}:${state}`, { channel, provider: 'twilio', providerMessageId: sid, status: mapped, ...(reason ? { reason } : {}), occurredAt: ctx.receivedAt.toISOString(), raw: { ...params } })],
    };
  }
  if (!from || !params.To) return { items: [], unhandled: 'twilio:incomplete' };
  return {
    items: [
      inbound(
        ctx,
        `twilio:${sid}`,
        {
          channel,
          provider: 'twilio',
          providerMessageId: sid,
          from: plain(from).slice(0, 32),
          to: plain(params.To).slice(0, 64),
          ...(params.Body ? { text: params.Body.slice(0, 10_000) } : {}),
          ...(params.ButtonPayload ? { buttonPayload: params.ButtonPayload.slice(0, 1000) } : {}),
          raw: { ...params },
        },
        ctx.receivedAt,
      ),
    ],
  };
}
