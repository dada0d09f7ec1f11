import type { JourneyDefinition } from '../engine/definition';

export interface Recipe {
  name: string;
  title: string;
  description: string;
  definition: JourneyDefinition;
}

/** Ready-made journeys; installing one creates an editable draft. Template ids are placeholders to rename. */
export const RECIPES: Recipe[] = [
  {
    name: 'welcome-series',
    title: 'Welcome series',
    description: 'Three emails over a week after sign-up; stops when the contact activates.',
    definition: {
      trigger: { type: 'event', event: 'Signed Up' },
      entry: { mode: 'once' },
      goals: [{ id: 'activated', event: 'Activated' }],
      exitCriteria: [{ type: 'unsubscribed', channel: 'email' }],
      start: 'welcome',
      nodes: {
        welcome: { type: 'send', channel: 'email', templateId: 'welcome-1', next: 'wait_2d' },
        wait_2d: { type: 'wait', duration: '2d', next: 'tips' },
        tips: { type: 'send', channel: 'email', templateId: 'welcome-2-tips', next: 'wait_5d' },
        wait_5d: { type: 'wait', duration: '5d', next: 'nudge' },
        nudge: { type: 'send', channel: 'email', templateId: 'welcome-3-nudge' },
      },
    },
  },
  {
    name: 'abandoned-cart',
    title: 'Abandoned cart',
    description: 'Reminds after an hour unless the order completes; an SMS follow-up for bigger carts.',
    definition: {
      trigger: { type: 'event', event: 'Cart Abandoned', instancePer: 'cartId' },
      entry: { mode: 'cooldown', cooldown: '1d' },
      goals: [{ id: 'purchased', event: 'Order Completed' }],
      exitCriteria: [{ type: 'unsubscribed' }],
      start: 'wait_1h',
      nodes: {
        wait_1h: { type: 'wait', duration: '1h', next: 'reminder' },
        reminder: { type: 'send', channel: 'email', templateId: 'cart-reminder', next: 'wait_checkout' },
        wait_checkout: { type: 'wait_event', event: 'Checkout Started', timeout: '1d', onEvent: 'done', onTimeout: 'big_cart' },
        big_cart: { type: 'condition', conditions: { all: [{ source: 'trigger', property: 'total', op: 'gte', value: 100 }] }, yes: 'sms', no: 'done' },
        sms: { type: 'send', channel: 'sms', templateId: 'cart-sms' },
        done: { type: 'exit', reason: 'reminders finished' },
      },
    },
  },
  {
    name: 'post-purchase',
    title: 'Post-purchase follow-up',
    description: 'Thanks at once, asks for a review a week later, A/B-tests the review ask with a holdout.',
    definition: {
      trigger: { type: 'event', event: 'Order Completed', instancePer: 'orderId' },
      entry: { mode: 'once_at_a_time' },
      start: 'thanks',
      nodes: {
        thanks: { type: 'send', channel: 'email', templateId: 'order-thanks', next: 'wait_7d' },
        wait_7d: { type: 'wait', duration: '7d', next: 'ab' },
        ab: { type: 'split', holdout: 10, variants: [{ name: 'email', weight: 50, next: 'review_email' }, { name: 'sms', weight: 50, next: 'review_sms' }] },
        review_email: { type: 'send', channel: 'email', templateId: 'review-ask' },
        review_sms: { type: 'send', channel: 'sms', templateId: 'review-ask-sms' },
      },
    },
  },
  {
    name: 'win-back',
    title: 'Win-back',
    description: 'Contacts entering an "inactive 60 days" segment get an offer, then a last call.',
    definition: {
      trigger: { type: 'segment_entered', segmentId: '00000000-0000-4000-8000-000000000000' },
      entry: { mode: 'cooldown', cooldown: '90d' },
      goals: [{ id: 'returned', event: 'Session Started' }],
      exitCriteria: [{ type: 'unsubscribed', channel: 'email' }],
      start: 'offer',
      nodes: {
        offer: { type: 'send', channel: 'email', templateId: 'winback-offer', next: 'wait_5d' },
        wait_5d: { type: 'wait', duration: '5d', next: 'last_call' },
        last_call: { type: 'send', channel: 'email', templateId: 'winback-last-call', next: 'tag' },
        tag: { type: 'update_contact', attributes: { winback_sent: true } },
      },
    },
  },
  {
    name: 'birthday',
    title: 'Birthday / anniversary',
    description: 'A greeting on the birthday at 09:00 contact local time, every year.',
    definition: {
      trigger: { type: 'date_attribute', attribute: 'birthday', offsetDays: 0, time: '09:00', yearly: true },
      entry: { mode: 'cooldown', cooldown: '300d' },
      start: 'greeting',
      nodes: { greeting: { type: 'send', channel: 'email', templateId: 'birthday-greeting' } },
    },
  },
  {
    name: 're-engagement',
    title: 'Re-engagement',
    description: 'Asks a dormant contact whether to stay subscribed; unsubscribes nobody, tags the silent ones.',
    definition: {
      trigger: { type: 'api' },
      entry: { mode: 'cooldown', cooldown: '30d' },
      start: 'ask',
      nodes: {
        ask: { type: 'send', channel: 'email', templateId: 'still-interested', next: 'wait_click' },
        wait_click: { type: 'wait_event', event: 'Email Clicked', timeout: '7d', onEvent: 'stay', onTimeout: 'tag_dormant' },
        stay: { type: 'publish_event', name: 'reengaged' },
        tag_dormant: { type: 'update_contact', attributes: { dormant: true } },
      },
    },
  },
];
