import {
  CONSENT_CHANNELS,
  CONSENT_STATES,
  LIMITS,
  OPERATORS_BY_TYPE,
  TIME_UNITS,
  VALUE_TYPES,
  durationMinutes,
  type SegmentDefinition,
  type ValueType,
} from './definition.types';

export interface DefinitionError {
  /** Where in the tree, e.g. `root.children[2].operator`. */
  path: string;
  message: string;
}

/** Looks up another segment's definition (same workspace) for `segment` conditions; undefined if absent. */
export type SegmentResolver = (segmentId: string) => SegmentDefinition | undefined;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const NAME = /^[A-Za-z0-9_$][A-Za-z0-9_.$:\- ]{0,99}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Validates a definition and returns every problem with the path of the offending node. `selfId`
 * (the segment being saved) and `resolve` are used to follow `segment` references and refuse cycles.
 */
export function validateDefinition(input: unknown, resolve: SegmentResolver = () => undefined, selfId?: string): DefinitionError[] {
  const errors: DefinitionError[] = [];
  const err = (path: string, message: string): void => void errors.push({ path, message });
  if (!isObj(input)) return [{ path: '', message: 'definition must be an object { version: 1, root }' }];
  for (const k of Object.keys(input)) if (k !== 'version' && k !== 'root') err(k, 'unknown field');
  if (input.version !== 1) err('version', 'must be 1');
  let nodes = 0;

  const checkName = (path: string, v: unknown, what: string): void => {
    if (typeof v !== 'string' || !NAME.test(v)) err(path, `${what} must be a name of 1-100 letters, digits, _ . $ : - or spaces`);
  };
  const checkKeys = (path: string, node: Obj, allowed: string[]): void => {
    for (const k of Object.keys(node)) if (!allowed.includes(k)) err(`${path}.${k}`, 'unknown field');
  };
  const checkDuration = (path: string, v: unknown): void => {
    if (!isObj(v) || !Number.isInteger(v.amount) || (v.amount as number) < 1 || !TIME_UNITS.includes(v.unit as never)) {
      err(path, `must be { amount: integer >= 1, unit: ${TIME_UNITS.join('|')} }`);
      return;
    }
    if (durationMinutes(v as never) > LIMITS.maxWindowDays * 1440) err(path, `window out of range: at most ${LIMITS.maxWindowDays} days`);
  };
  const checkIso = (path: string, v: unknown): boolean => {
    const ok = typeof v === 'string' && ISO.test(v) && !Number.isNaN(Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v));
    if (!ok) err(path, 'must be an ISO 8601 date or instant');
    return ok;
  };
  const checkScalar = (path: string, type: ValueType, v: unknown): void => {
    if (type === 'date') checkIso(path, v);
    else if (typeof v !== type || (type === 'number' && !Number.isFinite(v))) err(path, `must be a ${type}`);
    else if (type === 'string' && (v as string).length > 1000) err(path, 'at most 1000 characters');
  };
  const checkFilter = (path: string, f: Obj): void => {
    if (!VALUE_TYPES.includes(f.valueType as never)) {
      err(`${path}.valueType`, `must be one of ${VALUE_TYPES.join(', ')}`);
      return;
    }
    const type = f.valueType as ValueType;
    const op = f.operator;
    if (typeof op !== 'string' || !Object.values(OPERATORS_BY_TYPE).some((ops) => ops.includes(op))) {
      err(`${path}.operator`, `unknown operator ${JSON.stringify(op)}`);
      return;
    }
    if (!OPERATORS_BY_TYPE[type].includes(op)) {
      err(`${path}.operator`, `operator ${op} does not apply to ${type} values (allowed: ${OPERATORS_BY_TYPE[type].join(', ')})`);
      return;
    }
    const v = f.value;
    const vp = `${path}.value`;
    switch (op) {
      case 'exists':
      case 'not_exists':
      case 'anniversary_today':
        if (v !== undefined) err(vp, `${op} takes no value`);
        return;
      case 'in':
        if (!Array.isArray(v) || v.length === 0 || v.length > LIMITS.maxInValues) err(vp, `must be an array of 1-${LIMITS.maxInValues} values`);
        else v.forEach((x, i) => checkScalar(`${vp}[${i}]`, type, x));
        return;
      case 'between':
        if (!Array.isArray(v) || v.length !== 2) err(vp, 'must be [low, high]');
        else {
          checkScalar(`${vp}[0]`, type, v[0]);
          checkScalar(`${vp}[1]`, type, v[1]);
        }
        return;
      case 'within_last':
      case 'more_than_ago':
        checkDuration(vp, v);
        return;
      default:
        checkScalar(vp, type, v);
    }
  };
  const checkFilters = (path: string, list: unknown): void => {
    if (list === undefined) return;
    if (!Array.isArray(list) || list.length > LIMITS.maxChildren) return err(path, `must be an array of at most ${LIMITS.maxChildren} filters`);
    list.forEach((f, i) => {
      const p = `${path}[${i}]`;
      if (!isObj(f)) return err(p, 'must be an object');
      checkKeys(p, f, ['property', 'valueType', 'operator', 'value']);
      checkName(`${p}.property`, f.property, 'property');
      checkFilter(p, f);
    });
  };
  const checkCount = (path: string, c: unknown): void => {
    if (c === undefined) return;
    if (!isObj(c) || !['at_least', 'at_most', 'exactly'].includes(c.operator as string)) return err(`${path}.operator`, 'must be at_least, at_most or exactly');
    if (!Number.isInteger(c.value) || (c.value as number) < 0 || (c.value as number) > LIMITS.maxCount) err(`${path}.value`, `must be an integer 0-${LIMITS.maxCount}`);
  };
  const checkWindow = (path: string, w: unknown): void => {
    if (w === undefined) return;
    if (!isObj(w)) return err(path, 'must be { last } or { from, to }');
    checkKeys(path, w, ['last', 'from', 'to']);
    if (w.last !== undefined) {
      if (w.from !== undefined || w.to !== undefined) err(path, 'use either last or from/to');
      checkDuration(`${path}.last`, w.last);
    } else if (w.from === undefined && w.to === undefined) err(path, 'must be { last } or { from, to }');
    else {
      const a = w.from === undefined || checkIso(`${path}.from`, w.from);
      const b = w.to === undefined || checkIso(`${path}.to`, w.to);
      if (a && b && w.from !== undefined && w.to !== undefined && Date.parse(w.from as string) > Date.parse(w.to as string)) err(path, 'from is after to');
    }
  };

  const visit = (node: unknown, path: string, depth: number, refChain: string[]): void => {
    if (++nodes > LIMITS.maxNodes) {
      if (nodes === LIMITS.maxNodes + 1) err(path, `too expensive: a definition may have at most ${LIMITS.maxNodes} nodes`);
      return;
    }
    if (depth > LIMITS.maxDepth) return err(path, `too expensive: nesting deeper than ${LIMITS.maxDepth}`);
    if (!isObj(node)) return err(path, 'must be an object with a type');
    const t = node.type;
    switch (t) {
      case 'and':
      case 'or':
        checkKeys(path, node, ['type', 'children']);
        if (!Array.isArray(node.children) || node.children.length === 0 || node.children.length > LIMITS.maxChildren)
          return err(`${path}.children`, `must be an array of 1-${LIMITS.maxChildren} nodes`);
        node.children.forEach((c, i) => visit(c, `${path}.children[${i}]`, depth + 1, refChain));
        return;
      case 'not':
        checkKeys(path, node, ['type', 'child']);
        return visit(node.child, `${path}.child`, depth + 1, refChain);
      case 'attribute':
        checkKeys(path, node, ['type', 'attribute', 'valueType', 'operator', 'value']);
        checkName(`${path}.attribute`, node.attribute, 'attribute');
        return checkFilter(path, node);
      case 'event':
        checkKeys(path, node, ['type', 'event', 'performed', 'count', 'window', 'where']);
        checkName(`${path}.event`, node.event, 'event');
        if (node.performed !== undefined && typeof node.performed !== 'boolean') err(`${path}.performed`, 'must be a boolean');
        if (node.performed === false && node.count !== undefined) err(`${path}.count`, 'not allowed with performed: false');
        checkCount(`${path}.count`, node.count);
        checkWindow(`${path}.window`, node.window);
        return checkFilters(`${path}.where`, node.where);
      case 'event_time': {
        checkKeys(path, node, ['type', 'event', 'which', 'operator', 'value', 'where']);
        checkName(`${path}.event`, node.event, 'event');
        if (node.which !== 'first' && node.which !== 'last') err(`${path}.which`, 'must be first or last');
        const vp = `${path}.value`;
        if (node.operator === 'within_last' || node.operator === 'more_than_ago') checkDuration(vp, node.value);
        else if (node.operator === 'before' || node.operator === 'after') checkIso(vp, node.value);
        else if (node.operator === 'between') {
          if (!Array.isArray(node.value) || node.value.length !== 2) err(vp, 'must be [from, to]');
          else node.value.forEach((x, i) => checkIso(`${vp}[${i}]`, x));
        } else err(`${path}.operator`, 'must be within_last, more_than_ago, before, after or between');
        return checkFilters(`${path}.where`, node.where);
      }
      case 'tag':
        checkKeys(path, node, ['type', 'tag']);
        return checkName(`${path}.tag`, node.tag, 'tag');
      case 'list':
        checkKeys(path, node, ['type', 'listId']);
        return checkName(`${path}.listId`, node.listId, 'listId');
      case 'consent':
        checkKeys(path, node, ['type', 'channel', 'group', 'state']);
        if (!CONSENT_CHANNELS.includes(node.channel as never)) err(`${path}.channel`, `must be one of ${CONSENT_CHANNELS.join(', ')}`);
        if (node.group !== undefined) checkName(`${path}.group`, node.group, 'group');
        if (!CONSENT_STATES.includes(node.state as never)) err(`${path}.state`, `must be one of ${CONSENT_STATES.join(', ')}`);
        return;
      case 'object':
        checkKeys(path, node, ['type', 'objectType', 'where', 'count']);
        checkName(`${path}.objectType`, node.objectType, 'objectType');
        checkCount(`${path}.count`, node.count);
        return checkFilters(`${path}.where`, node.where);
      case 'message':
        checkKeys(path, node, ['type', 'action', 'channel', 'templateId', 'performed', 'window']);
        if (!['received', 'opened', 'clicked'].includes(node.action as string)) err(`${path}.action`, 'must be received, opened or clicked');
        if (node.channel !== undefined) checkName(`${path}.channel`, node.channel, 'channel');
        if (node.templateId !== undefined) checkName(`${path}.templateId`, node.templateId, 'templateId');
        if (node.performed !== undefined && typeof node.performed !== 'boolean') err(`${path}.performed`, 'must be a boolean');
        return checkWindow(`${path}.window`, node.window);
      case 'segment': {
        checkKeys(path, node, ['type', 'segmentId']);
        const id = node.segmentId;
        if (typeof id !== 'string' || !UUID.test(id)) return err(`${path}.segmentId`, 'must be a segment id');
        if (id === selfId || refChain.includes(id)) return err(`${path}.segmentId`, `cycle: ${[...refChain, id].join(' -> ')}`);
        if (refChain.length >= LIMITS.maxSegmentRefDepth) return err(`${path}.segmentId`, `too expensive: segment references nest deeper than ${LIMITS.maxSegmentRefDepth}`);
        const target = resolve(id);
        if (!target) return err(`${path}.segmentId`, 'no such segment in this workspace');
        // The referenced tree is inlined at evaluation, so its nodes count and its own references are followed.
        return visit(target.root, path, depth, [...refChain, id]);
      }
      default:
        return err(`${path}.type`, `unknown node type ${JSON.stringify(t)}`);
    }
  };
  if (input.root === undefined) err('root', 'required');
  else visit(input.root, 'root', 1, selfId ? [selfId] : []);
  return errors;
}
