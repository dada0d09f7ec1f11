/** The journey definition format (a versioned JSON graph). Documented in apps/journeys/README.md. */

export const NODE_TYPES = ['send', 'wait', 'wait_until', 'wait_event', 'condition', 'switch', 'split', 'update_contact', 'webhook', 'publish_event', 'exit'] as const;
export type NodeType = (typeof NODE_TYPES)[number];
export const SEND_CHANNELS = ['email', 'sms', 'whatsapp', 'push', 'webhook'] as const;
export const OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'contains', 'not_contains', 'in', 'not_in', 'exists', 'not_exists', 'starts_with'] as const;
export type Op = (typeof OPS)[number];

/** A property filter on an event (`property` is a dotted path into `properties`). */
export interface Filter {
  property: string;
  op: Op;
  value?: unknown;
}

export type Condition =
  | { source: 'contact' | 'event' | 'trigger' | 'context'; property: string; op: Op; value?: unknown }
  | { source: 'segment'; segmentId: string; op: 'in' | 'not_in' };

export interface ConditionGroup {
  /** All must hold (default when only `all` is given). */
  all?: Condition[];
  /** At least one must hold. */
  any?: Condition[];
}

export type Trigger =
  | { type: 'event'; event: string; filters?: Filter[]; instancePer?: string }
  | { type: 'segment_entered' | 'segment_exited'; segmentId: string }
  | { type: 'api' }
  | { type: 'date_attribute'; attribute: string; offsetDays: number; time: string; yearly?: boolean };

export interface EntryRules {
  /** `once`: once ever; `once_at_a_time`: re-entry after the previous instance ended; `cooldown`: re-entry `cooldown` after the last entry. */
  mode: 'once' | 'once_at_a_time' | 'cooldown';
  cooldown?: string;
  maxEntries?: number;
}

export interface Goal {
  id: string;
  event?: string;
  filters?: Filter[];
  /** Alternatively (or additionally): conditions on contact attributes, checked at every step. */
  conditions?: ConditionGroup;
}

export type ExitCriterion =
  | { type: 'segment_exited'; segmentId: string }
  | { type: 'not_in_segment'; segmentId: string }
  | { type: 'unsubscribed'; channel?: string }
  | { type: 'event'; event: string; filters?: Filter[] };

export interface QuietHours {
  start: string;
  end: string;
  behavior: 'hold' | 'skip';
}

export interface FrequencyCap {
  /** A channel or `*` for all. */
  channel: string;
  max: number;
  /** Rolling window (e.g. `24h`, `7d`), or `local_day` for the contact's calendar day. */
  window: string;
}

interface Base {
  /** Shown in the editor; optional. */
  label?: string;
}

export type JourneyNode = Base &
  (
    | { type: 'send'; channel: (typeof SEND_CHANNELS)[number]; templateId: string; overrides?: Record<string, unknown>; next?: string }
    | { type: 'wait'; duration: string; next?: string }
    | { type: 'wait_until'; at?: string; time?: string; weekdays?: number[]; next?: string }
    | { type: 'wait_event'; event: string; filters?: Filter[]; timeout: string; onEvent?: string; onTimeout?: string }
    | { type: 'condition'; conditions: ConditionGroup; yes?: string; no?: string }
    | { type: 'switch'; branches: { name?: string; conditions: ConditionGroup; next?: string }[]; default?: string }
    | { type: 'split'; variants: { name: string; weight: number; next?: string }[]; holdout?: number }
    | { type: 'update_contact'; attributes?: Record<string, unknown>; unset?: string[]; next?: string }
    | { type: 'webhook'; url: string; method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; headers?: Record<string, string>; body?: unknown; retries?: number; next?: string; onFailure?: string }
    | { type: 'publish_event'; name: string; properties?: Record<string, unknown>; next?: string }
    | { type: 'exit'; reason?: string }
  );

export interface JourneyDefinition {
  trigger: Trigger;
  entry?: EntryRules;
  goals?: Goal[];
  exitCriteria?: ExitCriterion[];
  /** null: no quiet hours even if the workspace sets some; absent: the workspace's. */
  quietHours?: QuietHours | null;
  frequencyCaps?: { behavior: 'wait' | 'skip'; ignore?: boolean };
  start: string;
  nodes: Record<string, JourneyNode>;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `90s`, `15m`, `2h`, `3d`, `1w`, or combinations like `1d12h`; undefined when malformed. */
export function parseDuration(text: unknown): number | undefined {
  if (typeof text !== 'string' || !/^(\d+[smhdw])+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+)([smhdw])/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total > 0 ? total : undefined;
}

/** Outgoing edges of a node, with the field that names each. */
export function edges(node: JourneyNode): { field: string; target: string }[] {
  const out: { field: string; target: string | undefined }[] = [];
  switch (node.type) {
    case 'wait_event':
      out.push({ field: 'onEvent', target: node.onEvent }, { field: 'onTimeout', target: node.onTimeout });
      break;
    case 'condition':
      out.push({ field: 'yes', target: node.yes }, { field: 'no', target: node.no });
      break;
    case 'switch':
      node.branches?.forEach((b, i) => out.push({ field: `branches.${i}.next`, target: b.next }));
      out.push({ field: 'default', target: node.default });
      break;
    case 'split':
      node.variants?.forEach((v, i) => out.push({ field: `variants.${i}.next`, target: v.next }));
      break;
    case 'webhook':
      out.push({ field: 'next', target: node.next }, { field: 'onFailure', target: node.onFailure });
      break;
    case 'exit':
      break;
    default:
      out.push({ field: 'next', target: (node as { next?: string }).next });
  }
  return out.filter((e): e is { field: string; target: string } => typeof e.target === 'string');
}

/** Nodes that hold the instance until time passes, so a cycle through them is allowed. */
export function isWaitNode(node: JourneyNode): boolean {
  return node.type === 'wait' || node.type === 'wait_until' || node.type === 'wait_event';
}

/** Event names the definition reacts to while an instance is in flight (goals, exits, waits). */
export function listenedEvents(def: JourneyDefinition): Set<string> {
  const names = new Set<string>();
  for (const g of def.goals ?? []) if (g.event) names.add(g.event);
  for (const c of def.exitCriteria ?? []) if (c.type === 'event') names.add(c.event);
  for (const n of Object.values(def.nodes)) if (n.type === 'wait_event') names.add(n.event);
  return names;
}
