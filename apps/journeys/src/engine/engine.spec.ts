import { describe, expect, it } from 'vitest';
import type { JourneyDefinition } from './definition';
import { advance, stableFraction } from './engine';
import { initialState, type EngineContext } from './engine.types';
import { simulate } from './simulate';
import { validateDefinition } from './validate';

const J = '11111111-1111-4111-8111-111111111111';
const C = '22222222-2222-4222-8222-222222222222';
const SEG = '33333333-3333-4333-8333-333333333333';
const ws = { timezone: 'UTC', quietHours: null, frequencyCaps: [] };

function ctx(now: string, extra: Partial<EngineContext> = {}): EngineContext {
  return { now: new Date(now), instanceId: 'i1', journeyId: J, version: 1, contactId: C, contact: { attributes: {}, timezone: 'UTC', consent: {} }, segments: new Set(), recentSends: [], workspace: ws, ...extra };
}

const cart: JourneyDefinition = {
  trigger: { type: 'event', event: 'Cart Abandoned' },
  goals: [{ id: 'purchased', event: 'Order Completed' }],
  start: 'send_1',
  nodes: {
    send_1: { type: 'send', channel: 'email', templateId: 'cart-1', next: 'wait_1' },
    wait_1: { type: 'wait_event', event: 'Checkout Started', timeout: '1d', onEvent: 'thanks', onTimeout: 'check' },
    thanks: { type: 'send', channel: 'email', templateId: 'thanks' },
    check: { type: 'condition', conditions: { all: [{ source: 'trigger', property: 'total', op: 'gt', value: 100 }] }, yes: 'sms', no: 'end' },
    sms: { type: 'send', channel: 'sms', templateId: 'cart-sms', next: 'end' },
    end: { type: 'exit', reason: 'done' },
  },
};

describe('validateDefinition', () => {
  it('accepts a sound graph', () => {
    expect(validateDefinition(cart)).toEqual([]);
  });

  it('points at the node for a missing timeout, a missing target, an unreachable node and a cycle without a wait', () => {
    const bad = structuredClone(cart) as unknown as { nodes: Record<string, Record<string, unknown>> };
    delete bad.nodes.wait_1!.timeout;
    bad.nodes.check!.yes = 'nowhere';
    expect(validateDefinition(bad).map((e) => e.path).sort()).toEqual(['nodes.check.yes', 'nodes.wait_1.timeout']);
    const loop = { trigger: { type: 'api' }, start: 'a', nodes: { a: { type: 'condition', conditions: { all: [] }, yes: 'b', no: 'b' }, b: { type: 'send', channel: 'email', templateId: 't', next: 'a' }, lost: { type: 'exit' } } };
    const paths = validateDefinition(loop).map((e) => e.path);
    expect(paths).toContain('nodes.lost');
    expect(paths.some((p) => p === 'nodes.a' || p === 'nodes.b')).toBe(true);
    const waited = { trigger: { type: 'api' }, start: 'a', nodes: { a: { type: 'wait', duration: '1d', next: 'b' }, b: { type: 'send', channel: 'email', templateId: 't', next: 'a' } } };
    expect(validateDefinition(waited)).toEqual([]);
  });

  it('rejects a bad trigger, duration and segment id with their paths', () => {
    const errors = validateDefinition({ trigger: { type: 'segment_entered', segmentId: 'x' }, start: 'w', nodes: { w: { type: 'wait', duration: 'soon' } } });
    expect(errors.map((e) => e.path).sort()).toEqual(['nodes.w.duration', 'trigger.segmentId']);
  });
});

describe('advance', () => {
  it('sends, parks on the event wait, and takes the happened branch', () => {
    const r1 = advance(cart, initialState({ total: 50 }), { type: 'start' }, ctx('2026-01-01T10:00:00Z'));
    expect(r1.effects.filter((e) => e.type === 'send').map((e) => (e as { requestId: string }).requestId)).toEqual(['i1:send_1:1']);
    expect(r1.state.waiting).toMatchObject({ kind: 'event', node: 'wait_1', dueAt: '2026-01-02T10:00:00.000Z' });
    const unrelated = advance(cart, r1.state, { type: 'event', name: 'Page Viewed', properties: {} }, ctx('2026-01-01T11:00:00Z'));
    expect(unrelated.changed).toBe(false);
    const r2 = advance(cart, r1.state, { type: 'event', name: 'Checkout Started', properties: {} }, ctx('2026-01-01T11:00:00Z'));
    expect(r2.state.status).toBe('completed');
    expect(r2.effects.filter((e) => e.type === 'step').map((e) => (e as { outcome: string }).outcome)).toEqual(['happened', 'sent']);
  });

  it('ignores a stale timer and takes the timeout branch with the right token', () => {
    const r1 = advance(cart, initialState({ total: 150 }), { type: 'start' }, ctx('2026-01-01T10:00:00Z'));
    expect(advance(cart, r1.state, { type: 'timer', token: 'other' }, ctx('2026-01-02T10:00:00Z')).changed).toBe(false);
    const r2 = advance(cart, r1.state, { type: 'timer', token: r1.state.waiting!.token }, ctx('2026-01-02T10:00:00Z'));
    expect(r2.effects.filter((e) => e.type === 'send').map((e) => (e as { templateId: string }).templateId)).toEqual(['cart-sms']);
    expect(r2.state).toMatchObject({ status: 'exited', exitKind: 'exit_node' });
  });

  it('ends on a goal event at any point and counts it', () => {
    const r1 = advance(cart, initialState({}), { type: 'start' }, ctx('2026-01-01T10:00:00Z'));
    const r2 = advance(cart, r1.state, { type: 'event', name: 'Order Completed', properties: {} }, ctx('2026-01-01T12:00:00Z'));
    expect(r2.state.status).toBe('converted');
    expect(r2.effects).toContainEqual({ type: 'goal', goalId: 'purchased' });
  });

  it('splits deterministically per contact and journey, with a holdout', () => {
    const def: JourneyDefinition = { trigger: { type: 'api' }, start: 's', nodes: { s: { type: 'split', holdout: 10, variants: [{ name: 'A', weight: 1, next: 'a' }, { name: 'B', weight: 1, next: 'b' }] }, a: { type: 'exit' }, b: { type: 'exit' } } };
    const counts: Record<string, number> = {};
    for (let i = 0; i < 2000; i++) {
      const contactId = `c-${i}`;
      const first = advance(def, initialState({}), { type: 'start' }, ctx('2026-01-01T00:00:00Z', { contactId }));
      const again = advance(def, initialState({}), { type: 'start' }, ctx('2026-03-01T00:00:00Z', { contactId }));
      const outcome = (first.effects.find((e) => e.type === 'step') as { outcome: string }).outcome;
      expect((again.effects.find((e) => e.type === 'step') as { outcome: string }).outcome).toBe(outcome);
      counts[outcome] = (counts[outcome] ?? 0) + 1;
    }
    expect(counts.holdout! / 2000).toBeGreaterThan(0.07);
    expect(counts.holdout! / 2000).toBeLessThan(0.13);
    expect(Math.abs(counts['variant:A']! - counts['variant:B']!)).toBeLessThan(200);
    expect(stableFraction('a')).toBe(stableFraction('a'));
  });

  it('holds a send in quiet hours until the window opens in the contact timezone, or skips it', () => {
    const def: JourneyDefinition = { trigger: { type: 'api' }, quietHours: { start: '21:00', end: '08:00', behavior: 'hold' }, start: 's', nodes: { s: { type: 'send', channel: 'sms', templateId: 't' } } };
    // 23:00 UTC is 08:00 in Tokyo (open) and 18:00 in New York (open); 03:00 UTC is 22:00 in New York (quiet).
    const tokyo = advance(def, initialState({}), { type: 'start' }, ctx('2026-01-01T23:00:00Z', { contact: { attributes: {}, timezone: 'Asia/Tokyo', consent: {} } }));
    expect(tokyo.effects.some((e) => e.type === 'send')).toBe(true);
    const ny = advance(def, initialState({}), { type: 'start' }, ctx('2026-01-02T03:00:00Z', { contact: { attributes: {}, timezone: 'America/New_York', consent: {} } }));
    expect(ny.effects.some((e) => e.type === 'send')).toBe(false);
    expect(ny.state.waiting).toMatchObject({ purpose: 'send_hold', dueAt: '2026-01-02T13:00:00.000Z' });
    const resumed = advance(def, ny.state, { type: 'timer', token: ny.state.waiting!.token }, ctx('2026-01-02T13:00:00Z', { contact: { attributes: {}, timezone: 'America/New_York', consent: {} } }));
    expect(resumed.effects.find((e) => e.type === 'send')).toMatchObject({ requestId: 'i1:s:1' });
    const skip = advance({ ...def, quietHours: { ...def.quietHours!, behavior: 'skip' } }, initialState({}), { type: 'start' }, ctx('2026-01-02T03:00:00Z', { contact: { attributes: {}, timezone: 'America/New_York', consent: {} } }));
    expect(skip.effects.some((e) => e.type === 'send')).toBe(false);
    expect(skip.state.status).toBe('completed');
  });

  it('applies frequency caps across journeys: wait until the window frees, or skip', () => {
    const def: JourneyDefinition = { trigger: { type: 'api' }, start: 's', nodes: { s: { type: 'send', channel: 'email', templateId: 't' } } };
    const capped = { ...ws, frequencyCaps: [{ channel: 'email', max: 2, window: '24h' }] };
    const recentSends = [{ channel: 'email', at: '2026-01-01T01:00:00.000Z' }, { channel: 'email', at: '2026-01-01T05:00:00.000Z' }];
    const r = advance(def, initialState({}), { type: 'start' }, ctx('2026-01-01T10:00:00Z', { workspace: capped, recentSends }));
    expect(r.state.waiting).toMatchObject({ purpose: 'send_hold', dueAt: '2026-01-02T01:00:01.000Z' });
    const skip = advance({ ...def, frequencyCaps: { behavior: 'skip' } }, initialState({}), { type: 'start' }, ctx('2026-01-01T10:00:00Z', { workspace: capped, recentSends }));
    expect(skip.state.status).toBe('completed');
    expect(skip.effects.some((e) => e.type === 'send')).toBe(false);
    const daily = { ...ws, frequencyCaps: [{ channel: '*', max: 1, window: 'local_day' }] };
    const d = advance(def, initialState({}), { type: 'start' }, ctx('2026-01-01T10:00:00Z', { workspace: daily, recentSends: [recentSends[1]!], contact: { attributes: {}, timezone: 'Europe/Berlin', consent: {} } }));
    expect(d.state.waiting?.dueAt).toBe('2026-01-01T23:00:00.000Z');
  });

  it('exits on unsubscribe and on leaving a segment, checked at every step', () => {
    const def: JourneyDefinition = { trigger: { type: 'api' }, exitCriteria: [{ type: 'unsubscribed', channel: 'email' }, { type: 'segment_exited', segmentId: SEG }], start: 'w', nodes: { w: { type: 'wait', duration: '1h', next: 's' }, s: { type: 'send', channel: 'email', templateId: 't' } } };
    const r1 = advance(def, initialState({}), { type: 'start' }, ctx('2026-01-01T00:00:00Z'));
    const out = advance(def, r1.state, { type: 'segment_exited', segmentId: SEG }, ctx('2026-01-01T00:10:00Z'));
    expect(out.state).toMatchObject({ status: 'exited', exitKind: 'exit_criteria' });
    const r2 = advance(def, r1.state, { type: 'timer', token: r1.state.waiting!.token }, ctx('2026-01-01T01:00:00Z', { contact: { attributes: {}, consent: { email: 'unsubscribed' } } }));
    expect(r2.effects.some((e) => e.type === 'send')).toBe(false);
    expect(r2.state.exitReason).toBe('unsubscribed from email');
  });

  it('skips a send on a channel the contact unsubscribed from, records why, and goes on', () => {
    const def: JourneyDefinition = { trigger: { type: 'api' }, start: 'sms', nodes: { sms: { type: 'send', channel: 'sms', templateId: 't1', next: 'mail' }, mail: { type: 'send', channel: 'email', templateId: 't2' } } };
    const r = advance(def, initialState({}), { type: 'start' }, ctx('2026-01-01T10:00:00Z', { contact: { attributes: {}, consent: { sms: 'unsubscribed', 'email:newsletter': 'unsubscribed' } } }));
    expect(r.effects.filter((e) => e.type === 'send').map((e) => (e as { channel: string }).channel)).toEqual(['email']);
    expect(r.effects.find((e) => e.type === 'step' && e.node === 'sms')).toMatchObject({ outcome: 'skipped', reason: 'contact unsubscribed from sms' });
    expect(r.state.status).toBe('completed');
  });

  it('retries a failing webhook, stores the response, and uses it in a later condition', () => {
    const def: JourneyDefinition = {
      trigger: { type: 'api' },
      start: 'h',
      nodes: {
        h: { type: 'webhook', url: 'http://x/score', retries: 1, next: 'c' },
        c: { type: 'condition', conditions: { all: [{ source: 'context', property: 'webhooks.h.body.score', op: 'gte', value: 5 }] }, yes: 'hi', no: 'lo' },
        hi: { type: 'send', channel: 'email', templateId: 'hi' },
        lo: { type: 'send', channel: 'email', templateId: 'lo' },
      },
    };
    const r1 = advance(def, initialState({}), { type: 'start' }, ctx('2026-01-01T00:00:00Z'));
    const call1 = r1.effects.find((e) => e.type === 'webhook') as { token: string };
    const r2 = advance(def, r1.state, { type: 'webhook_result', token: call1.token, status: 503, body: null, ok: false }, ctx('2026-01-01T00:00:01Z'));
    expect(r2.state.waiting?.purpose).toBe('webhook_retry');
    const r3 = advance(def, r2.state, { type: 'timer', token: r2.state.waiting!.token }, ctx('2026-01-01T00:00:03Z'));
    const call2 = r3.effects.find((e) => e.type === 'webhook') as { token: string; attempt: number; idempotencyKey: string };
    expect(call2).toMatchObject({ attempt: 2, idempotencyKey: 'i1:h:1' });
    const r4 = advance(def, r3.state, { type: 'webhook_result', token: call2.token, status: 200, body: { score: 7 }, ok: true }, ctx('2026-01-01T00:00:04Z'));
    expect(r4.effects.find((e) => e.type === 'send')).toMatchObject({ templateId: 'hi' });
  });
});

describe('simulate', () => {
  it('returns the path and the messages on a virtual clock without sending', () => {
    const result = simulate({ definition: cart, contact: { id: C, attributes: {} }, trigger: { total: 120 }, events: [], start: new Date('2026-01-01T10:00:00Z'), workspace: ws, journeyId: J });
    expect(result.messages.map((m) => [m.templateId, m.at])).toEqual([
      ['cart-1', '2026-01-01T10:00:00.000Z'],
      ['cart-sms', '2026-01-02T10:00:00.000Z'],
    ]);
    expect(result.path.map((p) => `${p.node}:${p.outcome}`)).toEqual(['send_1:sent', 'wait_1:timed_out', 'check:yes', 'sms:sent', 'end:exit']);
    const converted = simulate({ definition: cart, contact: { id: C, attributes: {} }, trigger: {}, events: [{ at: '2026-01-01T12:00:00Z', name: 'Order Completed' }], start: new Date('2026-01-01T10:00:00Z'), workspace: ws, journeyId: J });
    expect(converted.final).toMatchObject({ status: 'converted', exitKind: 'goal' });
  });
});
