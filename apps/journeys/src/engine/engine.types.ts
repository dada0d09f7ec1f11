import type { FrequencyCap, QuietHours } from './definition';

export type InstanceStatus = 'active' | 'completed' | 'exited' | 'converted';

/** Why an instance is parked, and the token a timer or webhook result must carry to resume it. */
export interface Waiting {
  kind: 'timer' | 'event' | 'webhook';
  purpose: 'wait' | 'event_timeout' | 'send_hold' | 'webhook_retry' | 'webhook_call';
  node: string;
  token: string;
  dueAt?: string;
  attempt?: number;
}

/** The durable per-instance state (stored as JSON next to the instance row). */
export interface InstanceState {
  status: InstanceStatus;
  node: string | null;
  waiting?: Waiting;
  /** Times each node was entered: makes idempotency keys unique per visit of a looping journey. */
  visits: Record<string, number>;
  trigger: Record<string, unknown>;
  /** The last event that resumed a wait-for-event node. */
  lastEvent?: Record<string, unknown>;
  /** Webhook responses by node id, for later conditions and templates. */
  webhooks: Record<string, { status: number; body: unknown; ok: boolean }>;
  exitKind?: string;
  exitReason?: string;
}

export interface ContactView {
  attributes: Record<string, unknown>;
  timezone?: string | null;
  /** channel or `channel:group` -> state */
  consent: Record<string, string>;
}

export interface EngineContext {
  now: Date;
  instanceId: string;
  journeyId: string;
  version: number;
  contactId: string;
  campaignId?: string;
  contact: ContactView;
  segments: ReadonlySet<string>;
  /** Messages requested for this contact recently (any journey), for frequency caps. */
  recentSends: { channel: string; at: string }[];
  workspace: { timezone: string; quietHours?: QuietHours | null; frequencyCaps: FrequencyCap[] };
}

export type EngineInput =
  | { type: 'start' }
  | { type: 'timer'; token: string }
  | { type: 'event'; name: string; properties: Record<string, unknown>; at?: string }
  | { type: 'segment_exited'; segmentId: string }
  | { type: 'unsubscribed'; channel: string }
  | { type: 'webhook_result'; token: string; status: number; body: unknown; ok: boolean }
  /** Moves the instance to a node of its (new) version and runs from there (version migration). */
  | { type: 'goto'; node: string; reason: string }
  /** Ends the instance from outside (erasure, archive, migration). */
  | { type: 'stop'; kind: string; reason: string };

export type Effect =
  | { type: 'send'; node: string; requestId: string; channel: string; templateId: string; data: Record<string, unknown>; overrides?: Record<string, unknown> }
  | { type: 'schedule'; node: string; token: string; dueAt: string }
  | { type: 'update_contact'; node: string; requestId: string; attributes: Record<string, unknown>; unset?: string[] }
  | { type: 'publish_event'; node: string; requestId: string; name: string; properties: Record<string, unknown> }
  | { type: 'webhook'; node: string; token: string; idempotencyKey: string; attempt: number; request: { url: string; method: string; headers: Record<string, string>; body?: unknown } }
  | { type: 'step'; node: string; stepType: string; outcome: string; reason?: string; at: string }
  | { type: 'goal'; goalId: string }
  | { type: 'exit'; kind: string; reason?: string };

export interface EngineResult {
  state: InstanceState;
  effects: Effect[];
  /** False when the input did not concern this instance (stale timer, unrelated event). */
  changed: boolean;
}

export function initialState(trigger: Record<string, unknown>): InstanceState {
  return { status: 'active', node: null, visits: {}, trigger, webhooks: {} };
}
