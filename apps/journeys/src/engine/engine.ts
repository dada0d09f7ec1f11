import { createHash } from 'node:crypto';
import { describeGroup, evaluateGroup, matchesFilters, readPath, withField, type ConditionScope } from './conditions';
import { parseDuration, type JourneyDefinition, type JourneyNode } from './definition';
import type { Effect, EngineContext, EngineInput, EngineResult, InstanceState, Waiting } from './engine.types';
import { localParts, nextLocalTime, parseTimeOfDay, quietUntil } from './time';

const MAX_STEPS_PER_INPUT = 500;
const WEBHOOK_WATCHDOG_MS = 60_000;

/** A number in [0, 1) fixed by its inputs: the same contact always lands in the same split branch. */
export function stableFraction(...parts: string[]): number {
  const digest = createHash('sha256').update(parts.join('|')).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/** Replaces `{{path}}` in strings with values from the scope (a whole-string reference keeps the value's type). */
export function resolveValues(value: unknown, scope: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{\s*([\w.]+)\s*\}\}$/.exec(value);
    if (whole) return readPath(scope, whole[1]!);
    return value.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, path: string) => String(readPath(scope, path) ?? ''));
  }
  if (Array.isArray(value)) return value.map((v) => resolveValues(v, scope));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveValues(v, scope)]));
  return value;
}

type NodeOutcome = { next?: string } | { parked: true } | { ended: true };

/**
 * The journey engine: a pure transition (definition, state, input, context with clock) -> (state,
 * effects). The live runner and the simulator both call it; it performs no I/O.
 */
export function advance(def: JourneyDefinition, prior: InstanceState, input: EngineInput, ctx: EngineContext): EngineResult {
  if (prior.status !== 'active') return { state: prior, effects: [], changed: false };
  const s: InstanceState = structuredClone(prior);
  const effects: Effect[] = [];
  const at = ctx.now.toISOString();
  const recentSends = [...ctx.recentSends];
  const unchanged = (): EngineResult => ({ state: prior, effects: [], changed: false });

  const end = (status: InstanceState['status'], kind: string, reason?: string): void => {
    s.status = status;
    s.waiting = undefined;
    s.exitKind = kind;
    s.exitReason = reason;
    effects.push({ type: 'exit', kind, ...(reason ? { reason } : {}) });
  };
  const step = (node: string, outcome: string, reason?: string): void => {
    effects.push({ type: 'step', node, stepType: def.nodes[node]?.type ?? 'unknown', outcome, ...(reason ? { reason } : {}), at });
  };
  const scope = (): ConditionScope => ({
    contact: withField(ctx.contact.attributes, 'timezone', ctx.contact.timezone),
    trigger: s.trigger,
    event: (s.lastEvent?.properties as Record<string, unknown>) ?? s.trigger,
    context: { webhooks: s.webhooks },
    segments: ctx.segments,
  });
  const valueScope = (): Record<string, unknown> => ({ trigger: s.trigger, event: s.lastEvent?.properties ?? s.trigger, contact: ctx.contact.attributes, webhooks: s.webhooks, journey: { id: ctx.journeyId, version: ctx.version } });
  const tz = ctx.contact.timezone || ctx.workspace.timezone || 'UTC';
  const park = (waiting: Waiting): NodeOutcome => {
    s.waiting = waiting;
    if (waiting.dueAt) effects.push({ type: 'schedule', node: waiting.node, token: waiting.token, dueAt: waiting.dueAt });
    return { parked: true };
  };
  const token = (node: string, purpose: string, attempt = 0): string => `${node}:${s.visits[node] ?? 0}:${purpose}:${attempt}`;

  const issueWebhook = (id: string, node: Extract<JourneyNode, { type: 'webhook' }>, attempt: number): NodeOutcome => {
    const t = token(id, 'webhook_call', attempt);
    const vs = valueScope();
    effects.push({
      type: 'webhook',
      node: id,
      token: t,
      attempt,
      idempotencyKey: `${ctx.instanceId}:${id}:${s.visits[id] ?? 0}`,
      request: { url: String(resolveValues(node.url, vs)), method: node.method ?? 'POST', headers: (resolveValues(node.headers ?? {}, vs) as Record<string, string>), ...(node.body !== undefined ? { body: resolveValues(node.body, vs) } : {}) },
    });
    // The watchdog re-issues the call if the result never comes back (a crash after commit).
    return park({ kind: 'webhook', purpose: 'webhook_call', node: id, token: t, attempt, dueAt: new Date(ctx.now.getTime() + WEBHOOK_WATCHDOG_MS).toISOString() });
  };

  /** Goals on attributes and exit criteria on state, checked before every step. */
  const checkAtStep = (): boolean => {
    const sc = scope();
    const goal = (def.goals ?? []).find((g) => g.conditions && !g.event && evaluateGroup(g.conditions, sc));
    if (goal) {
      effects.push({ type: 'goal', goalId: goal.id });
      end('converted', 'goal', `goal ${goal.id}`);
      return true;
    }
    for (const c of def.exitCriteria ?? []) {
      if (c.type === 'unsubscribed') {
        const hit = Object.entries(ctx.contact.consent).find(([k, v]) => v === 'unsubscribed' && (!c.channel || k === c.channel));
        if (hit) {
          end('exited', 'exit_criteria', `unsubscribed from ${hit[0]}`);
          return true;
        }
      }
      if (c.type === 'not_in_segment' && !ctx.segments.has(c.segmentId)) {
        end('exited', 'exit_criteria', `not in segment ${c.segmentId}`);
        return true;
      }
    }
    return false;
  };

  const runNode = (id: string, node: JourneyNode, visit: number): NodeOutcome => {
    switch (node.type) {
      case 'send': {
        // Messaging would refuse it anyway (suppressed); skipping here records why the step sent nothing.
        if (ctx.contact.consent[node.channel] === 'unsubscribed') {
          step(id, 'skipped', `contact unsubscribed from ${node.channel}`);
          return { next: node.next };
        }
        const quiet = def.quietHours === undefined ? ctx.workspace.quietHours : def.quietHours;
        if (quiet) {
          const until = quietUntil(ctx.now, tz, parseTimeOfDay(quiet.start) ?? 0, parseTimeOfDay(quiet.end) ?? 0);
          if (until) {
            if (quiet.behavior === 'skip') {
              step(id, 'skipped', `quiet hours ${quiet.start}-${quiet.end} in ${tz}`);
              return { next: node.next };
            }
            step(id, 'held', `quiet hours ${quiet.start}-${quiet.end} in ${tz} until ${until.toISOString()}`);
            return park({ kind: 'timer', purpose: 'send_hold', node: id, token: token(id, 'send_hold', 1), dueAt: until.toISOString() });
          }
        }
        if (!def.frequencyCaps?.ignore) {
          for (const cap of ctx.workspace.frequencyCaps) {
            if (cap.channel !== '*' && cap.channel !== node.channel) continue;
            const relevant = recentSends.filter((r) => cap.channel === '*' || r.channel === cap.channel);
            let inWindow: { at: string }[];
            let freeAt: Date;
            if (cap.window === 'local_day') {
              const today = localParts(ctx.now, tz);
              inWindow = relevant.filter((r) => {
                const p = localParts(new Date(r.at), tz);
                return p.year === today.year && p.month === today.month && p.day === today.day;
              });
              freeAt = nextLocalTime(ctx.now, 0, tz);
            } else {
              const windowMs = parseDuration(cap.window) ?? 86_400_000;
              inWindow = relevant.filter((r) => new Date(r.at).getTime() > ctx.now.getTime() - windowMs).sort((a, b) => a.at.localeCompare(b.at));
              const oldest = inWindow[inWindow.length - cap.max];
              freeAt = new Date((oldest ? new Date(oldest.at).getTime() : ctx.now.getTime()) + windowMs + 1000);
            }
            if (inWindow.length >= cap.max) {
              const why = `frequency cap ${cap.max} ${cap.channel} per ${cap.window}`;
              if ((def.frequencyCaps?.behavior ?? 'wait') === 'skip') {
                step(id, 'skipped', why);
                return { next: node.next };
              }
              step(id, 'held', `${why} until ${freeAt.toISOString()}`);
              return park({ kind: 'timer', purpose: 'send_hold', node: id, token: token(id, 'send_hold', 2), dueAt: freeAt.toISOString() });
            }
          }
        }
        const vs = valueScope();
        effects.push({
          type: 'send',
          node: id,
          requestId: `${ctx.instanceId}:${id}:${visit}`,
          channel: node.channel,
          templateId: node.templateId,
          data: { trigger: s.trigger, event: vs.event, webhooks: s.webhooks, journey: vs.journey },
          ...(node.overrides ? { overrides: resolveValues(node.overrides, vs) as Record<string, unknown> } : {}),
        });
        recentSends.push({ channel: node.channel, at });
        step(id, 'sent', `${node.channel} ${node.templateId}`);
        return { next: node.next };
      }
      case 'wait': {
        const ms = parseDuration(node.duration) ?? 0;
        return park({ kind: 'timer', purpose: 'wait', node: id, token: token(id, 'wait'), dueAt: new Date(ctx.now.getTime() + ms).toISOString() });
      }
      case 'wait_until': {
        let due: Date;
        if (node.at) due = new Date(node.at);
        else due = nextLocalTime(ctx.now, parseTimeOfDay(node.time) ?? 0, tz, node.weekdays, true);
        if (due.getTime() <= ctx.now.getTime()) {
          step(id, 'passed', `${node.at ?? node.time} already passed`);
          return { next: node.next };
        }
        return park({ kind: 'timer', purpose: 'wait', node: id, token: token(id, 'wait'), dueAt: due.toISOString() });
      }
      case 'wait_event': {
        const ms = parseDuration(node.timeout) ?? 0;
        return park({ kind: 'event', purpose: 'event_timeout', node: id, token: token(id, 'event_timeout'), dueAt: new Date(ctx.now.getTime() + ms).toISOString() });
      }
      case 'condition': {
        const yes = evaluateGroup(node.conditions, scope());
        step(id, yes ? 'yes' : 'no', `${describeGroup(node.conditions)} is ${yes}`);
        return { next: yes ? node.yes : node.no };
      }
      case 'switch': {
        const sc = scope();
        const i = node.branches.findIndex((b) => evaluateGroup(b.conditions, sc));
        if (i < 0) {
          step(id, 'default', 'no branch matched');
          return { next: node.default };
        }
        const b = node.branches[i]!;
        step(id, `branch:${b.name ?? i}`, `${describeGroup(b.conditions)} matched`);
        return { next: b.next };
      }
      case 'split': {
        const u = stableFraction(ctx.contactId, ctx.journeyId, id) * 100;
        const holdout = node.holdout ?? 0;
        if (u < holdout) {
          step(id, 'holdout', `holdout group (${holdout}%)`);
          end('exited', 'holdout', `holdout at ${id}`);
          return { ended: true };
        }
        const total = node.variants.reduce((sum, v) => sum + v.weight, 0);
        let pick = ((u - holdout) / (100 - holdout)) * total;
        const variant = node.variants.find((v) => (pick -= v.weight) < 0) ?? node.variants[node.variants.length - 1]!;
        step(id, `variant:${variant.name}`, `weights ${node.variants.map((v) => `${v.name}=${v.weight}`).join(',')}`);
        return { next: variant.next };
      }
      case 'update_contact': {
        const vs = valueScope();
        effects.push({ type: 'update_contact', node: id, requestId: `${ctx.instanceId}:${id}:${visit}`, attributes: resolveValues(node.attributes ?? {}, vs) as Record<string, unknown>, ...(node.unset?.length ? { unset: node.unset } : {}) });
        step(id, 'requested');
        return { next: node.next };
      }
      case 'publish_event': {
        effects.push({ type: 'publish_event', node: id, requestId: `${ctx.instanceId}:${id}:${visit}`, name: node.name, properties: resolveValues(node.properties ?? {}, valueScope()) as Record<string, unknown> });
        step(id, 'published', node.name);
        return { next: node.next };
      }
      case 'webhook':
        return issueWebhook(id, node, 1);
      case 'exit':
        step(id, 'exit', node.reason);
        end('exited', 'exit_node', node.reason ?? `exit at ${id}`);
        return { ended: true };
    }
  };

  const runFrom = (start: string | undefined, resume: boolean): void => {
    let cursor = start;
    let resuming = resume;
    for (let guard = 0; cursor !== undefined; guard++) {
      if (guard > MAX_STEPS_PER_INPUT) return end('exited', 'error', 'too many steps without a wait');
      if (checkAtStep()) return;
      const node = def.nodes[cursor];
      if (!node) return end('exited', 'error', `unknown node ${cursor}`);
      s.node = cursor;
      if (!resuming) s.visits[cursor] = (s.visits[cursor] ?? 0) + 1;
      resuming = false;
      s.waiting = undefined;
      const outcome = runNode(cursor, node, s.visits[cursor]!);
      if ('parked' in outcome || 'ended' in outcome) return;
      cursor = outcome.next;
    }
    end('completed', 'completed', 'reached the end of the journey');
  };

  const w = s.waiting;
  switch (input.type) {
    case 'start':
      runFrom(def.start, false);
      break;
    case 'stop':
      end('exited', input.kind, input.reason);
      break;
    case 'goto':
      effects.push({ type: 'step', node: input.node, stepType: 'migration', outcome: 'migrated', reason: input.reason, at });
      runFrom(input.node, false);
      break;
    case 'event': {
      const goal = (def.goals ?? []).find((g) => g.event === input.name && matchesFilters(input.properties, g.filters));
      if (goal) {
        effects.push({ type: 'goal', goalId: goal.id });
        end('converted', 'goal', `goal ${goal.id}`);
        break;
      }
      if ((def.exitCriteria ?? []).some((c) => c.type === 'event' && c.event === input.name && matchesFilters(input.properties, c.filters))) {
        end('exited', 'exit_criteria', `event ${input.name}`);
        break;
      }
      const node = w?.kind === 'event' ? def.nodes[w.node] : undefined;
      if (!w || node?.type !== 'wait_event' || node.event !== input.name || !matchesFilters(input.properties, node.filters)) return unchanged();
      s.lastEvent = { name: input.name, properties: input.properties, at: input.at ?? at };
      step(w.node, 'happened', `${input.name} arrived`);
      runFrom(node.onEvent, false);
      break;
    }
    case 'segment_exited':
      if (!(def.exitCriteria ?? []).some((c) => (c.type === 'segment_exited' || c.type === 'not_in_segment') && c.segmentId === input.segmentId)) return unchanged();
      end('exited', 'exit_criteria', `left segment ${input.segmentId}`);
      break;
    case 'unsubscribed':
      if (!(def.exitCriteria ?? []).some((c) => c.type === 'unsubscribed' && (!c.channel || c.channel === input.channel))) return unchanged();
      end('exited', 'exit_criteria', `unsubscribed from ${input.channel}`);
      break;
    case 'timer': {
      if (!w || w.token !== input.token) return unchanged();
      const node = def.nodes[w.node];
      if (!node) {
        end('exited', 'error', `unknown node ${w.node}`);
        break;
      }
      if (w.purpose === 'wait') {
        step(w.node, 'waited');
        runFrom((node as { next?: string }).next, false);
      } else if (w.purpose === 'event_timeout' && node.type === 'wait_event') {
        step(w.node, 'timed_out', `no ${node.event} within ${node.timeout}`);
        runFrom(node.onTimeout, false);
      } else if (w.purpose === 'send_hold') {
        runFrom(w.node, true);
      } else if (node.type === 'webhook') {
        issueWebhook(w.node, node, (w.attempt ?? 1) + 1);
      }
      break;
    }
    case 'webhook_result': {
      if (!w || w.kind !== 'webhook' || w.token !== input.token) return unchanged();
      const node = def.nodes[w.node];
      if (node?.type !== 'webhook') return unchanged();
      s.webhooks[w.node] = { status: input.status, body: input.body, ok: input.ok };
      const attempt = w.attempt ?? 1;
      if (input.ok) {
        step(w.node, 'ok', `HTTP ${input.status}`);
        runFrom(node.next, false);
      } else if (attempt <= (node.retries ?? 3)) {
        const backoff = Math.min(1000 * 2 ** attempt, 3_600_000);
        step(w.node, 'retrying', `HTTP ${input.status}, attempt ${attempt}`);
        park({ kind: 'timer', purpose: 'webhook_retry', node: w.node, token: token(w.node, 'webhook_retry', attempt), attempt, dueAt: new Date(ctx.now.getTime() + backoff).toISOString() });
      } else {
        step(w.node, 'failed', `HTTP ${input.status} after ${attempt} attempts`);
        runFrom(node.onFailure ?? node.next, false);
      }
      break;
    }
  }
  return { state: s, effects, changed: true };
}
