/**
 * Pure rules for a profile's custom attributes: typed writes with Braze-style operations, and
 * "newer wins per field" for late events and merges. Each attribute keeps the time of its last
 * change in `attrTs` (ISO string); an unset attribute keeps its time too (a tombstone), so an
 * older write arriving late cannot bring it back.
 */
export const ATTRIBUTE_TYPES = ['string', 'number', 'boolean', 'datetime', 'list', 'object'] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];
export type UnknownAttributePolicy = 'create' | 'reject';

export interface AttributeState {
  attributes: Record<string, unknown>;
  attrTs: Record<string, string>;
}

export interface FieldError {
  path: string;
  messages: string[];
}

export interface ApplyResult extends AttributeState {
  changed: Record<string, unknown>;
  unset: string[];
  newDefinitions: { name: string; type: AttributeType }[];
  errors: FieldError[];
}

export interface ApplyOptions {
  definitions: ReadonlyMap<string, AttributeType>;
  policy: UnknownAttributePolicy;
  /** When the change happened; compared per field with `attrTs` unless `force`. */
  at: string;
  /** API writes are "now" and always apply; bus traits apply only if newer than what is stored. */
  force: boolean;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,99}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function inferType(value: unknown): AttributeType | undefined {
  if (typeof value === 'string') return ISO_DATE.test(value) && !Number.isNaN(Date.parse(value)) ? 'datetime' : 'string';
  if (typeof value === 'number') return Number.isFinite(value) ? 'number' : undefined;
  if (typeof value === 'boolean') return 'boolean';
  if (Array.isArray(value)) return 'list';
  if (isPlainObject(value)) return 'object';
  return undefined;
}

export function matchesType(type: AttributeType, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'datetime':
      return typeof value === 'string' && ISO_DATE.test(value) && !Number.isNaN(Date.parse(value));
    case 'list':
      return Array.isArray(value) && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v));
    case 'object':
      return isPlainObject(value);
  }
}

type Op = { kind: 'set'; value: unknown } | { kind: 'unset' } | { kind: 'inc'; by: number } | { kind: 'add' | 'remove'; items: unknown[] };

function parseOp(raw: unknown): Op | string {
  if (raw === null) return { kind: 'unset' };
  if (isPlainObject(raw)) {
    const keys = Object.keys(raw);
    const ops = keys.filter((k) => k.startsWith('$'));
    if (ops.length === 0) return { kind: 'set', value: raw };
    if (keys.length !== 1) return 'an operation object must hold exactly one of $inc, $add, $remove';
    const arg = raw[keys[0]!];
    if (keys[0] === '$inc') return typeof arg === 'number' && Number.isFinite(arg) ? { kind: 'inc', by: arg } : '$inc needs a finite number';
    if (keys[0] === '$add' || keys[0] === '$remove') {
      if (!Array.isArray(arg) || !arg.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) return `${keys[0]} needs an array of strings, numbers or booleans`;
      return { kind: keys[0] === '$add' ? 'add' : 'remove', items: arg };
    }
    return `unknown operation ${keys[0]}`;
  }
  return { kind: 'set', value: raw };
}

/**
 * Applies `patch` to `state`. Validates everything first: on any error nothing is applied
 * (callers answer 400 for API writes, or drop only the bad fields for bus traits by re-applying
 * without them, see `applyValid`).
 */
export function applyAttributes(state: AttributeState, patch: Record<string, unknown>, options: ApplyOptions): ApplyResult {
  const attributes = { ...state.attributes };
  const attrTs = { ...state.attrTs };
  const result: ApplyResult = { attributes, attrTs, changed: {}, unset: [], newDefinitions: [], errors: [] };
  const pending = new Map<string, AttributeType>();
  for (const [name, raw] of Object.entries(patch)) {
    const path = `attributes.${name}`;
    const fail = (message: string): void => void result.errors.push({ path, messages: [message] });
    if (!NAME.test(name)) {
      fail('attribute names start with a letter or _ and hold letters, digits, _ . - (max 100)');
      continue;
    }
    const op = parseOp(raw);
    if (typeof op === 'string') {
      fail(op);
      continue;
    }
    let type = options.definitions.get(name) ?? pending.get(name);
    if (!type && op.kind !== 'unset') {
      if (options.policy === 'reject') {
        fail(`unknown attribute ${name}: define it first (this workspace rejects unknown attributes)`);
        continue;
      }
      type = op.kind === 'inc' ? 'number' : op.kind === 'add' || op.kind === 'remove' ? 'list' : inferType((op as { value: unknown }).value);
      if (!type) {
        fail('value must be a string, finite number, boolean, array or object');
        continue;
      }
      pending.set(name, type);
      result.newDefinitions.push({ name, type });
    }
    if (!options.force && attrTs[name] && attrTs[name]! > options.at && op.kind !== 'inc') continue;
    const current = attributes[name];
    let next: unknown;
    switch (op.kind) {
      case 'unset':
        if (name in attributes) {
          delete attributes[name];
          delete result.changed[name];
          result.unset.push(name);
        }
        attrTs[name] = options.at;
        continue;
      case 'set':
        if (!matchesType(type!, op.value)) {
          fail(`must be of type ${type}`);
          continue;
        }
        next = op.value;
        break;
      case 'inc':
        if (type !== 'number') {
          fail(`$inc needs a number attribute, ${name} is ${type}`);
          continue;
        }
        if (current !== undefined && typeof current !== 'number') {
          fail('stored value is not a number');
          continue;
        }
        next = ((current as number | undefined) ?? 0) + op.by;
        break;
      case 'add':
      case 'remove': {
        if (type !== 'list') {
          fail(`$${op.kind} needs a list attribute, ${name} is ${type}`);
          continue;
        }
        const list = Array.isArray(current) ? [...(current as unknown[])] : [];
        next = op.kind === 'add' ? [...list, ...op.items.filter((i) => !list.includes(i))] : list.filter((i) => !op.items.includes(i));
        break;
      }
    }
    attributes[name] = next;
    attrTs[name] = options.at;
    result.changed[name] = next;
    result.unset = result.unset.filter((n) => n !== name);
  }
  if (result.errors.length) return { ...state, changed: {}, unset: [], newDefinitions: [], errors: result.errors };
  return result;
}

/** Bus traits: applies the valid fields and reports the others, instead of refusing all. */
export function applyValid(state: AttributeState, patch: Record<string, unknown>, options: ApplyOptions): ApplyResult {
  const first = applyAttributes(state, patch, options);
  if (!first.errors.length) return first;
  const bad = new Set(first.errors.map((e) => e.path.slice('attributes.'.length)));
  const rest = applyAttributes(state, Object.fromEntries(Object.entries(patch).filter(([k]) => !bad.has(k))), options);
  return { ...rest, errors: first.errors };
}

/**
 * Merges a losing profile's attributes into the winner's: per attribute, the side changed more
 * recently wins (an unset counts as a change); on a tie the winner keeps its value.
 */
export function mergeAttributes(winner: AttributeState, loser: AttributeState): AttributeState {
  const attributes = { ...winner.attributes };
  const attrTs = { ...winner.attrTs };
  const names = new Set([...Object.keys(loser.attributes), ...Object.keys(loser.attrTs)]);
  for (const name of names) {
    const loserTs = loser.attrTs[name] ?? '';
    const winnerTs = attrTs[name] ?? '';
    const winnerHas = name in attributes || name in attrTs;
    if (winnerHas && winnerTs >= loserTs) continue;
    if (name in loser.attributes) attributes[name] = loser.attributes[name];
    else delete attributes[name];
    if (loserTs) attrTs[name] = loserTs;
  }
  return { attributes, attrTs };
}

export interface ConsentValue {
  state: string;
  source: string;
  changedAt: string;
}

/** Most recent change per channel/group wins; on equal times an unsubscribe beats a subscribe. */
export function pickConsent(a: ConsentValue, b: ConsentValue): ConsentValue {
  if (a.changedAt !== b.changedAt) return a.changedAt > b.changedAt ? a : b;
  if (a.state === 'unsubscribed') return a;
  return b.state === 'unsubscribed' ? b : a;
}
