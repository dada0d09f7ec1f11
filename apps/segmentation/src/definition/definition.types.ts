/** Segment definition language, version 1. See apps/segmentation/README.md for the reference and examples. */

export const TIME_UNITS = ['minutes', 'hours', 'days'] as const;
export type TimeUnit = (typeof TIME_UNITS)[number];

export interface Duration {
  amount: number;
  unit: TimeUnit;
}

export const VALUE_TYPES = ['string', 'number', 'boolean', 'date'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

/** Which operators each value type accepts; the validator refuses any other pairing. */
export const OPERATORS_BY_TYPE: Record<ValueType, readonly string[]> = {
  string: ['equals', 'not_equals', 'in', 'contains', 'starts_with', 'exists', 'not_exists'],
  number: ['equals', 'not_equals', 'in', 'gt', 'gte', 'lt', 'lte', 'between', 'exists', 'not_exists'],
  boolean: ['equals', 'not_equals', 'exists', 'not_exists'],
  date: ['gt', 'gte', 'lt', 'lte', 'between', 'within_last', 'more_than_ago', 'anniversary_today', 'exists', 'not_exists'],
};

/** A typed comparison on a contact attribute or an event/object property (dotted paths reach nested values). */
export interface ValueFilter {
  valueType: ValueType;
  operator: string;
  /** Scalar, array (in), [low, high] (between), or Duration (within_last, more_than_ago); absent for exists/anniversary_today. */
  value?: unknown;
}

export interface AttributeCondition extends ValueFilter {
  type: 'attribute';
  attribute: string;
}

export interface PropertyFilter extends ValueFilter {
  property: string;
}

export interface CountFilter {
  operator: 'at_least' | 'at_most' | 'exactly';
  value: number;
}

/** Either a rolling window (`last`) or fixed bounds (`from`/`to`, ISO instants, inclusive). */
export interface EventWindow {
  last?: Duration;
  from?: string;
  to?: string;
}

export interface EventCondition {
  type: 'event';
  event: string;
  /** false = never performed (in the window, matching the filters). Default true. */
  performed?: boolean;
  /** Default: at least once. Only with performed !== false. */
  count?: CountFilter;
  window?: EventWindow;
  where?: PropertyFilter[];
}

export interface EventTimeCondition {
  type: 'event_time';
  event: string;
  which: 'first' | 'last';
  operator: 'within_last' | 'more_than_ago' | 'before' | 'after' | 'between';
  value: unknown;
  where?: PropertyFilter[];
}

export interface TagCondition {
  type: 'tag';
  tag: string;
}

export interface ListCondition {
  type: 'list';
  listId: string;
}

export const CONSENT_CHANNELS = ['email', 'sms', 'whatsapp', 'push'] as const;
export const CONSENT_STATES = ['subscribed', 'unsubscribed', 'never_asked'] as const;

export interface ConsentCondition {
  type: 'consent';
  channel: (typeof CONSENT_CHANNELS)[number];
  group?: string;
  state: (typeof CONSENT_STATES)[number];
}

export interface ObjectCondition {
  type: 'object';
  objectType: string;
  where?: PropertyFilter[];
  count?: CountFilter;
}

export interface SegmentCondition {
  type: 'segment';
  segmentId: string;
}

export interface MessageCondition {
  type: 'message';
  action: 'received' | 'opened' | 'clicked';
  channel?: string;
  templateId?: string;
  performed?: boolean;
  window?: EventWindow;
}

export type Condition =
  | AttributeCondition
  | EventCondition
  | EventTimeCondition
  | TagCondition
  | ListCondition
  | ConsentCondition
  | ObjectCondition
  | SegmentCondition
  | MessageCondition;

export interface AndNode {
  type: 'and';
  children: SegmentNode[];
}
export interface OrNode {
  type: 'or';
  children: SegmentNode[];
}
export interface NotNode {
  type: 'not';
  child: SegmentNode;
}

export type SegmentNode = AndNode | OrNode | NotNode | Condition;

export interface SegmentDefinition {
  version: 1;
  root: SegmentNode;
}

/** Limits that keep one definition from taking the database down (tree size, depth, windows). */
export const LIMITS = {
  maxNodes: 40,
  maxDepth: 6,
  maxChildren: 20,
  maxInValues: 500,
  maxWindowDays: 366,
  maxCount: 10_000,
  maxSegmentRefDepth: 3,
} as const;

export const UNIT_MINUTES: Record<TimeUnit, number> = { minutes: 1, hours: 60, days: 1440 };

export function durationMinutes(d: Duration): number {
  return d.amount * UNIT_MINUTES[d.unit];
}
