import { isRecord, str } from './json';
import { identifyItem, normaliseEmail, trackItem, type Identity, type MapContext, type Mapped } from './mapper';

export const SHOPIFY_TOPIC_NAMES: Record<string, string> = {
  'orders/create': 'Order Placed',
  'orders/paid': 'Order Paid',
  'orders/fulfilled': 'Order Fulfilled',
  // Shopify's abandoned-cart signal: a checkout that never becomes an order.
  'checkouts/create': 'Checkout Started',
  'checkouts/update': 'Checkout Started',
};

/** Email (lower-cased) as userId, else the Shopify customer id (as text) as anonymousId `shopify:<id>`. */
export function shopifyIdentity(object: Record<string, unknown>): Identity | undefined {
  const customer = isRecord(object.customer) ? object.customer : undefined;
  const email = normaliseEmail(object.email) ?? normaliseEmail(object.contact_email) ?? normaliseEmail(customer?.email);
  if (email) return { userId: email, email };
  const id = str(customer?.id);
  return id ? { anonymousId: `shopify:${id}` } : undefined;
}

function lineItems(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord).map((l) => ({ productId: str(l.product_id), variantId: str(l.variant_id), sku: l.sku, name: l.title ?? l.name, quantity: l.quantity, price: l.price })) : [];
}

/** `webhookId` (X-Shopify-Webhook-Id) is the de-dup key: Shopify resends with the same one. */
export function mapShopify(topic: string, webhookId: string, payload: unknown, ctx: MapContext): Mapped {
  if (!isRecord(payload)) return { items: [], unhandled: `shopify:${topic}` };
  const messageId = `shopify:${webhookId}`;
  const occurredAt = new Date(String(payload.updated_at ?? payload.created_at ?? ctx.receivedAt.toISOString()));
  if (topic === 'customers/create' || topic === 'customers/update') {
    const email = normaliseEmail(payload.email);
    const id = str(payload.id);
    if (!email && !id) return { items: [], unhandled: `shopify:${topic}` };
    const traits: Record<string, unknown> = {
      ...(email ? { email } : {}),
      ...(payload.first_name ? { firstName: payload.first_name } : {}),
      ...(payload.last_name ? { lastName: payload.last_name } : {}),
      ...(payload.phone ? { phone: payload.phone } : {}),
      ...(id ? { shopifyCustomerId: id } : {}),
      ...(typeof payload.accepts_marketing === 'boolean' ? { acceptsMarketing: payload.accepts_marketing } : {}),
    };
    return { items: [identifyItem(ctx, email ? { userId: email } : { anonymousId: `shopify:${id}` }, messageId, traits, occurredAt, 'shopify')] };
  }
  const name = SHOPIFY_TOPIC_NAMES[topic];
  const who = shopifyIdentity(payload);
  if (!name || !who) return { items: [], unhandled: `shopify:${topic}` };
  const isCheckout = topic.startsWith('checkouts/');
  const properties: Record<string, unknown> = {
    ...(isCheckout ? { checkoutId: str(payload.id), checkoutToken: payload.token, checkoutUrl: payload.abandoned_checkout_url } : { orderId: str(payload.id), orderNumber: str(payload.order_number) }),
    revenue: payload.total_price !== undefined ? Number(payload.total_price) : undefined,
    currency: payload.currency,
    products: lineItems(payload.line_items),
    ...(payload.financial_status ? { financialStatus: payload.financial_status } : {}),
    ...(payload.fulfillment_status ? { fulfillmentStatus: payload.fulfillment_status } : {}),
  };
  return { items: [trackItem(ctx, who, messageId, name, JSON.parse(JSON.stringify(properties)) as Record<string, unknown>, occurredAt, 'shopify')] };
}
