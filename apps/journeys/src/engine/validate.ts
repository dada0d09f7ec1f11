import { edges, isWaitNode, NODE_TYPES, OPS, parseDuration, SEND_CHANNELS, type ConditionGroup, type Filter, type JourneyDefinition, type JourneyNode, type Op } from './definition';
import { isValidTimeZone, parseTimeOfDay } from './time';

export interface DefinitionError {
  path: string;
  messages: string[];
}

/** What the validator can check against (ids known to this service), when known. */
export interface ValidationLookups {
  /** Segments seen in the membership projection; absent = do not check. */
  knownSegments?: ReadonlySet<string>;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Checks a definition and returns every problem with the path of the field at fault (e.g.
 * `nodes.wait_1.timeout`); an empty list means it can be saved and published.
 */
export function validateDefinition(input: unknown, lookups: ValidationLookups = {}): DefinitionError[] {
  const errors = new Map<string, string[]>();
  const err = (path: string, message: string): void => void errors.set(path, [...(errors.get(path) ?? []), message]);
  if (!isObj(input)) return [{ path: 'definition', messages: ['must be an object'] }];
  const def = input as unknown as JourneyDefinition;

  const segment = (path: string, id: unknown): void => {
    if (!isStr(id) || !UUID.test(id)) err(path, 'must be a segment id (UUID)');
    else if (lookups.knownSegments && !lookups.knownSegments.has(id)) err(path, `unknown segment ${id}`);
  };
  const filters = (path: string, list: unknown): void => {
    if (list === undefined) return;
    if (!Array.isArray(list)) return err(path, 'must be an array');
    list.forEach((f: Filter, i) => {
      if (!isObj(f) || !isStr(f.property)) err(`${path}.${i}.property`, 'must be a property path');
      if (!OPS.includes(f?.op)) err(`${path}.${i}.op`, `must be one of ${OPS.join(', ')}`);
    });
  };
  const group = (path: string, g: ConditionGroup | undefined): void => {
    if (!isObj(g) || (!Array.isArray(g.all) && !Array.isArray(g.any))) return err(path, 'must have `all` and/or `any` lists of conditions');
    for (const key of ['all', 'any'] as const) {
      ((g[key] ?? []) as unknown[]).forEach((raw, i) => {
        const p = `${path}.${key}.${i}`;
        if (!isObj(raw)) return err(p, 'must be an object');
        const c = raw as { source?: string; segmentId?: unknown; op?: unknown; property?: unknown };
        if (c.source === 'segment') {
          segment(`${p}.segmentId`, c.segmentId);
          if (c.op !== 'in' && c.op !== 'not_in') err(`${p}.op`, 'must be in or not_in');
        } else if (['contact', 'event', 'trigger', 'context'].includes(c.source ?? '')) {
          if (!isStr(c.property)) err(`${p}.property`, 'must be a property path');
          if (!OPS.includes(c.op as Op)) err(`${p}.op`, `must be one of ${OPS.join(', ')}`);
        } else err(`${p}.source`, 'must be contact, event, trigger, context or segment');
      });
    }
  };
  const duration = (path: string, v: unknown): void => {
    if (parseDuration(v) === undefined) err(path, 'must be a duration like 30m, 2h, 3d or 1d12h');
  };
  const time = (path: string, v: unknown): void => {
    if (parseTimeOfDay(v) === undefined) err(path, 'must be a time of day HH:MM');
  };

  // Trigger
  const t = def.trigger as Record<string, unknown> | undefined;
  if (!isObj(t)) err('trigger', 'is required');
  else if (t.type === 'event') {
    if (!isStr(t.event)) err('trigger.event', 'must name the event');
    filters('trigger.filters', t.filters);
    if (t.instancePer !== undefined && !isStr(t.instancePer)) err('trigger.instancePer', 'must be an event property path');
  } else if (t.type === 'segment_entered' || t.type === 'segment_exited') segment('trigger.segmentId', t.segmentId);
  else if (t.type === 'date_attribute') {
    if (!isStr(t.attribute)) err('trigger.attribute', 'must name a date attribute');
    if (!Number.isInteger(t.offsetDays) || Math.abs(t.offsetDays as number) > 366) err('trigger.offsetDays', 'must be an integer of days (negative = before)');
    time('trigger.time', t.time);
  } else if (t.type !== 'api') err('trigger.type', 'must be event, segment_entered, segment_exited, api or date_attribute');

  // Entry, goals, exits, quiet hours, caps
  if (def.entry !== undefined) {
    if (!isObj(def.entry) || !['once', 'once_at_a_time', 'cooldown'].includes(def.entry.mode)) err('entry.mode', 'must be once, once_at_a_time or cooldown');
    else {
      if (def.entry.mode === 'cooldown') duration('entry.cooldown', def.entry.cooldown);
      if (def.entry.maxEntries !== undefined && !(Number.isInteger(def.entry.maxEntries) && def.entry.maxEntries > 0)) err('entry.maxEntries', 'must be a positive integer');
    }
  }
  (Array.isArray(def.goals) ? def.goals : def.goals === undefined ? [] : (err('goals', 'must be an array'), [])).forEach((g, i) => {
    if (!isObj(g) || !isStr(g.id)) err(`goals.${i}.id`, 'is required');
    if (!isStr(g?.event) && !g?.conditions) err(`goals.${i}`, 'needs an event or conditions');
    filters(`goals.${i}.filters`, g?.filters);
    if (g?.conditions) group(`goals.${i}.conditions`, g.conditions);
  });
  (Array.isArray(def.exitCriteria) ? def.exitCriteria : def.exitCriteria === undefined ? [] : (err('exitCriteria', 'must be an array'), [])).forEach((c, i) => {
    const p = `exitCriteria.${i}`;
    if (c?.type === 'segment_exited' || c?.type === 'not_in_segment') segment(`${p}.segmentId`, c.segmentId);
    else if (c?.type === 'event') {
      if (!isStr(c.event)) err(`${p}.event`, 'must name the event');
      filters(`${p}.filters`, c.filters);
    } else if (c?.type !== 'unsubscribed') err(`${p}.type`, 'must be segment_exited, not_in_segment, unsubscribed or event');
  });
  if (def.quietHours) {
    time('quietHours.start', def.quietHours.start);
    time('quietHours.end', def.quietHours.end);
    if (!['hold', 'skip'].includes(def.quietHours.behavior)) err('quietHours.behavior', 'must be hold or skip');
  }
  if (def.frequencyCaps !== undefined && (!isObj(def.frequencyCaps) || !['wait', 'skip'].includes(def.frequencyCaps.behavior))) err('frequencyCaps.behavior', 'must be wait or skip');

  // Nodes
  if (!isObj(def.nodes) || !Object.keys(def.nodes).length) {
    err('nodes', 'must hold at least one node');
    return [...errors].map(([path, messages]) => ({ path, messages }));
  }
  if (!isStr(def.start) || !def.nodes[def.start]) err('start', 'must name a node');
  for (const [id, node] of Object.entries(def.nodes)) {
    const p = `nodes.${id}`;
    if (!ID.test(id)) err(p, 'node ids may hold only letters, digits, _ and - (max 64)');
    if (!isObj(node) || !NODE_TYPES.includes(node.type)) {
      err(`${p}.type`, `must be one of ${NODE_TYPES.join(', ')}`);
      continue;
    }
    validateNode(p, node, { err, duration, time, group, filters });
    for (const e of edges(node)) if (!def.nodes[e.target]) err(`${p}.${e.field}`, `targets unknown node ${e.target}`);
  }
  if (errors.size) return [...errors].map(([path, messages]) => ({ path, messages }));

  // Graph: reachability and cycles that never wait.
  const reached = new Set<string>();
  const stack = [def.start];
  while (stack.length) {
    const id = stack.pop()!;
    if (reached.has(id)) continue;
    reached.add(id);
    for (const e of edges(def.nodes[id]!)) stack.push(e.target);
  }
  for (const id of Object.keys(def.nodes)) if (!reached.has(id)) err(`nodes.${id}`, 'is unreachable from start');
  const state = new Map<string, 1 | 2>();
  const visit = (id: string, path: string[]): void => {
    state.set(id, 1);
    const node = def.nodes[id]!;
    if (!isWaitNode(node)) {
      for (const e of edges(node)) {
        if (state.get(e.target) === 1) err(`nodes.${e.target}`, `is in a cycle without a wait: ${[...path.slice(path.indexOf(e.target)), id, e.target].join(' -> ')}`);
        else if (!state.has(e.target)) visit(e.target, [...path, id]);
      }
    }
    state.set(id, 2);
  };
  for (const id of Object.keys(def.nodes)) if (!state.has(id)) visit(id, []);
  return [...errors].map(([path, messages]) => ({ path, messages }));
}

interface Checks {
  err: (path: string, message: string) => void;
  duration: (path: string, v: unknown) => void;
  time: (path: string, v: unknown) => void;
  group: (path: string, g: ConditionGroup | undefined) => void;
  filters: (path: string, list: unknown) => void;
}

function validateNode(p: string, node: JourneyNode, c: Checks): void {
  switch (node.type) {
    case 'send':
      if (!SEND_CHANNELS.includes(node.channel)) c.err(`${p}.channel`, `must be one of ${SEND_CHANNELS.join(', ')}`);
      if (!isStr(node.templateId)) c.err(`${p}.templateId`, 'is required');
      if (node.overrides !== undefined && !isObj(node.overrides)) c.err(`${p}.overrides`, 'must be an object');
      break;
    case 'wait':
      c.duration(`${p}.duration`, node.duration);
      break;
    case 'wait_until':
      if (node.at === undefined && node.time === undefined) c.err(p, 'needs `at` (ISO date-time) or `time` (HH:MM, contact local)');
      if (node.at !== undefined && (typeof node.at !== 'string' || Number.isNaN(Date.parse(node.at)))) c.err(`${p}.at`, 'must be an ISO 8601 date-time');
      if (node.time !== undefined) c.time(`${p}.time`, node.time);
      if (node.weekdays !== undefined && (!Array.isArray(node.weekdays) || node.weekdays.some((d) => !Number.isInteger(d) || d < 0 || d > 6))) c.err(`${p}.weekdays`, 'must list days 0 (Sunday) to 6');
      break;
    case 'wait_event':
      if (!isStr(node.event)) c.err(`${p}.event`, 'must name the event');
      c.filters(`${p}.filters`, node.filters);
      if (node.timeout === undefined) c.err(`${p}.timeout`, 'is required: a wait for an event needs a timeout');
      else c.duration(`${p}.timeout`, node.timeout);
      break;
    case 'condition':
      c.group(`${p}.conditions`, node.conditions);
      break;
    case 'switch':
      if (!Array.isArray(node.branches) || !node.branches.length) c.err(`${p}.branches`, 'must list at least one branch');
      else node.branches.forEach((b, i) => c.group(`${p}.branches.${i}.conditions`, b?.conditions));
      break;
    case 'split': {
      if (!Array.isArray(node.variants) || !node.variants.length) {
        c.err(`${p}.variants`, 'must list at least one variant');
        break;
      }
      node.variants.forEach((v, i) => {
        if (!isStr(v?.name)) c.err(`${p}.variants.${i}.name`, 'is required');
        if (typeof v?.weight !== 'number' || !(v.weight > 0)) c.err(`${p}.variants.${i}.weight`, 'must be a positive number');
      });
      if (node.holdout !== undefined && (typeof node.holdout !== 'number' || node.holdout < 0 || node.holdout >= 100)) c.err(`${p}.holdout`, 'must be a percentage in [0, 100)');
      break;
    }
    case 'update_contact':
      if (!isObj(node.attributes) && !Array.isArray(node.unset)) c.err(`${p}.attributes`, 'needs attributes to set or a list to unset');
      break;
    case 'webhook':
      if (!isStr(node.url) || !/^https?:\/\//.test(node.url)) c.err(`${p}.url`, 'must be an http(s) URL');
      if (node.method !== undefined && !['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(node.method)) c.err(`${p}.method`, 'must be GET, POST, PUT, PATCH or DELETE');
      if (node.retries !== undefined && !(Number.isInteger(node.retries) && node.retries >= 0 && node.retries <= 10)) c.err(`${p}.retries`, 'must be an integer 0-10');
      break;
    case 'publish_event':
      if (!isStr(node.name) || !/^[A-Za-z0-9_.:-]{1,200}$/.test(node.name)) c.err(`${p}.name`, 'must be a name of letters, digits and _ . : -');
      break;
    case 'exit':
      break;
  }
}

/** True when the string is a usable IANA zone (exported for settings validation). */
export { isValidTimeZone };
