import type { JourneyDefinition } from './definition';
import { advance } from './engine';
import { initialState, type Effect, type EngineContext, type EngineInput, type InstanceState } from './engine.types';

export interface SimulationInput {
  definition: JourneyDefinition;
  contact: { id: string; attributes: Record<string, unknown>; timezone?: string | null; consent?: Record<string, string>; segments?: string[] };
  /** Trigger payload (event properties or API payload) the instance starts with. */
  trigger: Record<string, unknown>;
  /** Later events, in any order; each at a virtual instant. */
  events: { at: string; name: string; properties?: Record<string, unknown> }[];
  /** Virtual start time. */
  start: Date;
  /** Stop the virtual clock here (default: start + 365 days). */
  until?: Date;
  /** Simulated webhook answers by node id (default 200 {}). */
  webhookResponses?: Record<string, { status: number; body?: unknown }>;
  workspace: EngineContext['workspace'];
  journeyId: string;
}

export interface SimulationResult {
  path: { node: string; stepType: string; outcome: string; reason?: string; at: string }[];
  messages: { at: string; node: string; channel: string; templateId: string; requestId: string; data: Record<string, unknown> }[];
  otherEffects: { at: string; type: string; detail: Record<string, unknown> }[];
  final: { status: string; node: string | null; exitKind?: string; exitReason?: string; waitingUntil?: string };
}

/** Runs a definition for one contact on a virtual clock with the same engine as the live runner; sends nothing. */
export function simulate(input: SimulationInput): SimulationResult {
  const until = input.until ?? new Date(input.start.getTime() + 365 * 86_400_000);
  const segments = new Set(input.contact.segments ?? []);
  const consent = { ...(input.contact.consent ?? {}) };
  const sends: { channel: string; at: string }[] = [];
  const result: SimulationResult = { path: [], messages: [], otherEffects: [], final: { status: 'active', node: null } };
  let state: InstanceState = initialState(input.trigger);
  let timer: { token: string; dueAt: number } | undefined;
  const pending: EngineInput[] = [];
  const events = [...input.events].sort((a, b) => a.at.localeCompare(b.at)).map((e) => ({ ...e, t: Date.parse(e.at) }));

  const apply = (now: Date, in0: EngineInput): void => {
    const ctx: EngineContext = { now, instanceId: 'simulation', journeyId: input.journeyId, version: 0, contactId: input.contact.id, contact: { attributes: input.contact.attributes, timezone: input.contact.timezone, consent }, segments, recentSends: sends, workspace: input.workspace };
    const r = advance(input.definition, state, in0, ctx);
    if (!r.changed) return;
    state = r.state;
    timer = undefined;
    for (const e of r.effects) record(now, e);
  };
  const record = (now: Date, e: Effect): void => {
    const at = now.toISOString();
    if (e.type === 'step') result.path.push({ node: e.node, stepType: e.stepType, outcome: e.outcome, ...(e.reason ? { reason: e.reason } : {}), at });
    else if (e.type === 'send') {
      result.messages.push({ at, node: e.node, channel: e.channel, templateId: e.templateId, requestId: e.requestId, data: e.data });
      sends.push({ channel: e.channel, at });
    } else if (e.type === 'schedule') timer = { token: e.token, dueAt: Date.parse(e.dueAt) };
    else if (e.type === 'webhook') {
      const answer = input.webhookResponses?.[e.node] ?? { status: 200, body: {} };
      result.otherEffects.push({ at, type: 'webhook', detail: { node: e.node, request: e.request, response: answer } });
      pending.push({ type: 'webhook_result', token: e.token, status: answer.status, body: answer.body ?? null, ok: answer.status < 400 });
    } else {
      const { type, ...detail } = e;
      result.otherEffects.push({ at, type, detail });
    }
  };

  let now = input.start;
  apply(now, { type: 'start' });
  for (let guard = 0; state.status === 'active' && guard < 10_000; guard++) {
    const next = pending.shift();
    if (next) {
      apply(now, next);
      continue;
    }
    const event = events[0];
    const t = Math.min(timer?.dueAt ?? Infinity, event?.t ?? Infinity);
    if (t === Infinity || t > until.getTime()) break;
    now = new Date(Math.max(t, now.getTime()));
    if (event && event.t === t) {
      events.shift();
      const props = event.properties ?? {};
      // Mirrors the live handlers: membership and consent events change the contact, too.
      if (event.name === 'segment_exited' && typeof props.segmentId === 'string') {
        segments.delete(props.segmentId);
        apply(now, { type: 'segment_exited', segmentId: props.segmentId });
      } else if (event.name === 'unsubscribed' && typeof props.channel === 'string') {
        consent[props.channel] = 'unsubscribed';
        apply(now, { type: 'unsubscribed', channel: props.channel });
      } else apply(now, { type: 'event', name: event.name, properties: props, at: event.at });
    } else if (timer) apply(now, { type: 'timer', token: timer.token });
  }
  result.final = { status: state.status, node: state.node, ...(state.exitKind ? { exitKind: state.exitKind } : {}), ...(state.exitReason ? { exitReason: state.exitReason } : {}), ...(state.status === 'active' && timer ? { waitingUntil: new Date(timer.dueAt).toISOString() } : {}) };
  return result;
}

