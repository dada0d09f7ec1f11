import type { Condition, ConditionGroup, Filter, Op } from './definition';

/**
 * `{ ...base, [key]: value }` without a literal that starts with a spread: in Node 20 such a literal
 * costs several µs when `base` is an existing object (a spread after a first property, well under one).
 */
export function withField(base: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { [key]: value, ...base };
  out[key] = value;
  return out;
}

/** Reads a dotted path (`address.city`) from an object. */
export function readPath(source: unknown, path: string): unknown {
  let value: unknown = source;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function asComparable(v: unknown): number | string | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
    const t = Date.parse(v);
    return /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(t) ? t : v;
  }
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

/** Applies one operator; comparisons are numeric for numbers/numeric strings and by instant for ISO dates. */
export function compare(actual: unknown, op: Op, expected: unknown): boolean {
  switch (op) {
    case 'exists':
      return actual !== undefined && actual !== null;
    case 'not_exists':
      return actual === undefined || actual === null;
    case 'eq':
      return actual === expected || (asComparable(actual) !== undefined && asComparable(actual) === asComparable(expected));
    case 'neq':
      return !compare(actual, 'eq', expected);
    case 'in':
      return Array.isArray(expected) && expected.some((e) => compare(actual, 'eq', e));
    case 'not_in':
      return !compare(actual, 'in', expected);
    case 'contains':
      if (Array.isArray(actual)) return actual.some((a) => compare(a, 'eq', expected));
      return typeof actual === 'string' && typeof expected === 'string' && actual.toLowerCase().includes(expected.toLowerCase());
    case 'not_contains':
      return !compare(actual, 'contains', expected);
    case 'starts_with':
      return typeof actual === 'string' && typeof expected === 'string' && actual.startsWith(expected);
    default: {
      const a = asComparable(actual);
      const b = asComparable(expected);
      if (a === undefined || b === undefined || typeof a !== typeof b) return false;
      if (op === 'gt') return a > b;
      if (op === 'gte') return a >= b;
      if (op === 'lt') return a < b;
      return a <= b;
    }
  }
}

export function matchesFilters(properties: Record<string, unknown>, filters: Filter[] | undefined): boolean {
  return (filters ?? []).every((f) => compare(readPath(properties, f.property), f.op, f.value));
}

/** What conditions may read. */
export interface ConditionScope {
  contact: Record<string, unknown>;
  trigger: Record<string, unknown>;
  event: Record<string, unknown>;
  context: Record<string, unknown>;
  segments: ReadonlySet<string>;
}

export function evaluate(condition: Condition, scope: ConditionScope): boolean {
  if (condition.source === 'segment') {
    const member = scope.segments.has(condition.segmentId);
    return condition.op === 'in' ? member : !member;
  }
  return compare(readPath(scope[condition.source], condition.property), condition.op, condition.value);
}

/** `all` and `any` both apply when both are given; an empty group holds. */
export function evaluateGroup(group: ConditionGroup, scope: ConditionScope): boolean {
  const all = (group.all ?? []).every((c) => evaluate(c, scope));
  const any = !group.any?.length || group.any.some((c) => evaluate(c, scope));
  return all && any;
}

/** Describes a group for the history (`why this branch`). */
export function describeGroup(group: ConditionGroup): string {
  const one = (c: Condition): string => (c.source === 'segment' ? `segment ${c.segmentId} ${c.op}` : `${c.source}.${c.property} ${c.op}${c.value !== undefined ? ` ${JSON.stringify(c.value)}` : ''}`);
  const parts: string[] = [];
  if (group.all?.length) parts.push(group.all.map(one).join(' and '));
  if (group.any?.length) parts.push(`(${group.any.map(one).join(' or ')})`);
  return parts.join(' and ') || 'always';
}
