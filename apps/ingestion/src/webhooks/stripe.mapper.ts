import { isRecord, str } from './json';
import { normaliseEmail, trackItem, type Identity, type MapContext, type Mapped } from './mapper';

/** Stripe event types we map, and the Tessera event name each becomes. */
export const STRIPE_EVENT_NAMES: Record<string, string> = {
  'checkout.session.completed': 'Order Completed',
  'payment_intent.succeeded': 'Payment Succeeded',
  'payment_intent.payment_failed': 'Payment Failed',
  'invoice.paid': 'Invoice Paid',
  'customer.subscription.created': 'Subscription Started',
  'customer.subscription.deleted': 'Subscription Cancelled',
};

/**
 * The contact of a Stripe object: `metadata.userId` (your id, set when you create the object) wins;
 * else the customer's email (checkout customer_details/customer_email, invoice customer_email,
 * payment intent receipt_email) as userId; else the Stripe customer id as anonymousId `stripe:cus_...`.
 */
export function stripeIdentity(object: Record<string, unknown>): Identity | undefined {
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const details = isRecord(object.customer_details) ? object.customer_details : {};
  const email = normaliseEmail(details.email) ?? normaliseEmail(object.customer_email) ?? normaliseEmail(object.receipt_email);
  const userId = str(metadata.userId) ?? str(metadata.user_id) ?? email;
  if (userId) return { userId, email };
  const customer = str(object.customer) ?? (isRecord(object.customer) ? str(object.customer.id) : undefined);
  return customer ? { anonymousId: `stripe:${customer}` } : undefined;
}

const money = (minor: unknown): number | undefined => (typeof minor === 'number' ? minor / 100 : undefined);

export function mapStripe(event: unknown, ctx: MapContext): Mapped {
  if (!isRecord(event) || typeof event.type !== 'string' || !isRecord(event.data) || !isRecord(event.data.object)) return { items: [], unhandled: 'stripe:malformed' };
  const name = STRIPE_EVENT_NAMES[event.type];
  const object = event.data.object;
  const who = stripeIdentity(object);
  if (!name || !who) return { items: [], unhandled: `stripe:${event.type}` };
  const occurredAt = typeof event.created === 'number' ? new Date(event.created * 1000) : ctx.receivedAt;
  const failure = isRecord(object.last_payment_error) ? object.last_payment_error : undefined;
  const properties: Record<string, unknown> = {
    stripeEventId: event.id,
    stripeObjectId: object.id,
    ...(object.currency ? { currency: String(object.currency).toUpperCase() } : {}),
    ...(money(object.amount_total ?? object.amount_paid ?? object.amount) !== undefined ? { revenue: money(object.amount_total ?? object.amount_paid ?? object.amount) } : {}),
    ...(event.type === 'checkout.session.completed' ? { orderId: object.id, paymentStatus: object.payment_status } : {}),
    ...(failure ? { reason: failure.message ?? failure.code } : {}),
    ...(object.status ? { status: object.status } : {}),
  };
  return { items: [trackItem(ctx, who, `stripe:${String(event.id ?? object.id)}`, name, properties, occurredAt, 'stripe')] };
}
