import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v4 as uuidv4 } from 'uuid';
import { OutboxRelayService } from '@tessera/service-kit';
import { UnresolvedEventsRepository } from '../src/runtime/unresolved-events.repository';
import { contractViolations, publishJourney, startJourneys, startWebhookSink, waitFor, WS, type Harness } from './helpers';

const MSG = 'journeys.message.requested.v1';

describe('journeys API and runtime: validation, versions, recipes, simulation, steps, goals, exits, entry rules, quiet hours, caps', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startJourneys('jrnrun');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('runs every step type from an event trigger to the bus, with history and counts', async () => {
    const hook = await startWebhookSink((_req, _body, n) => (n === 1 ? { status: 503, body: { error: 'busy' } } : { status: 200, body: { score: 9, tier: 'gold' } }));
    const segment = uuidv4();
    const id = await publishJourney(h, 'all steps', {
      trigger: { type: 'event', event: 'Order Completed', filters: [{ property: 'total', op: 'gte', value: 50 }] },
      start: 'send_now',
      nodes: {
        send_now: { type: 'send', channel: 'email', templateId: 'thanks', overrides: { subject: 'Order {{trigger.orderId}}' }, next: 'wait_short' },
        wait_short: { type: 'wait', duration: '1s', next: 'wait_review' },
        wait_review: { type: 'wait_event', event: 'Review Left', filters: [{ property: 'stars', op: 'gte', value: 4 }], timeout: '30s', onEvent: 'score', onTimeout: 'bye' },
        score: { type: 'webhook', url: `${hook.url}/score`, body: { order: '{{trigger.orderId}}' }, retries: 2, next: 'by_tier' },
        by_tier: { type: 'switch', branches: [{ name: 'gold', conditions: { all: [{ source: 'context', property: 'webhooks.score.body.tier', op: 'eq', value: 'gold' }] }, next: 'in_vip' }], default: 'bye' },
        in_vip: { type: 'condition', conditions: { all: [{ source: 'segment', segmentId: segment, op: 'in' }, { source: 'contact', property: 'plan', op: 'eq', value: 'pro' }] }, yes: 'ab', no: 'bye' },
        ab: { type: 'split', variants: [{ name: 'A', weight: 1, next: 'tag' }, { name: 'B', weight: 1, next: 'tag' }] },
        tag: { type: 'update_contact', attributes: { vip: true, lastOrder: '{{trigger.orderId}}' }, next: 'announce' },
        announce: { type: 'publish_event', name: 'loyalty.vip_granted', properties: { score: '{{webhooks.score.body.score}}' }, next: 'until' },
        until: { type: 'wait_until', at: new Date(Date.now() - 1000).toISOString(), next: 'done' },
        done: { type: 'exit', reason: 'all steps ran' },
        bye: { type: 'exit', reason: 'no review' },
      },
    });
    const contactId = await h.contact({ plan: 'pro' });
    await h.publish('segmentation.membership.entered.v1', { segmentId: segment, contactId, at: new Date().toISOString(), segmentVersion: 1 });
    await waitFor(async () => (await h.query(`SELECT 1 FROM journeys.segment_member WHERE contact_id = $1`, [contactId])).rowCount, 5000, 'membership');
    await h.track(contactId, 'Order Completed', { total: 10, orderId: 'small' }); // filtered out
    await h.track(contactId, 'Order Completed', { total: 80, orderId: 'o-1' });
    const sent = await waitFor(() => h.of(MSG, (d) => d.contactId === contactId)[0], 8000, 'message requested');
    expect(sent.data).toMatchObject({ channel: 'email', templateId: 'thanks', overrides: { subject: 'Order o-1' }, journeyId: id, journeyVersion: '1', stepId: 'send_now' });
    expect(sent.data.requestId).toBe(`${sent.data.instanceId}:send_now:1`);
    expect(sent.data.data.trigger.orderId).toBe('o-1');
    // the wait passes, then the contact leaves a review that matches the filter
    await waitFor(async () => (await h.query(`SELECT current_node FROM journeys.instance WHERE contact_id = $1`, [contactId])).rows[0]?.current_node === 'wait_review', 8000, 'wait_review');
    await h.track(contactId, 'Review Left', { stars: 2 });
    await h.track(contactId, 'Review Left', { stars: 5 });
    const done = await waitFor(() => h.of('journeys.instance.exited.v1', (d) => d.contactId === contactId)[0], 15000, 'exit');
    expect(done.data).toMatchObject({ kind: 'exit_node', reason: 'all steps ran' });
    expect(hook.calls).toHaveLength(2);
    expect(hook.calls[1]!.headers['idempotency-key']).toBe(`${sent.data.instanceId}:score:1`);
    expect(JSON.parse(hook.calls[1]!.body)).toEqual({ order: 'o-1' });
    expect(h.of('journeys.contact_update.requested.v1', (d) => d.contactId === contactId)[0]!.data.attributes).toEqual({ vip: true, lastOrder: 'o-1' });
    expect(h.of('journeys.custom_event.published.v1', (d) => d.contactId === contactId)[0]!.data).toMatchObject({ name: 'loyalty.vip_granted', properties: { score: 9 } });
    const detail = await h.call('GET', `/v1/journeys/instances/${sent.data.instanceId}`);
    const path = detail.body.history.map((s: { node: string; outcome: string }) => `${s.node}:${s.outcome}`);
    expect(path).toEqual(['send_now:sent', 'wait_short:waited', 'wait_review:happened', 'score:retrying', 'score:ok', 'by_tier:branch:gold', 'in_vip:yes', expect.stringMatching(/^ab:variant:[AB]$/), 'tag:requested', 'announce:published', 'until:passed', 'done:exit']);
    // The same steps on the bus: batched in journeys.step.completed.v2, but the split alone in v1 (its variant is a per-instance fact).
    const batched = (): string[] =>
      h.of('journeys.step.completed.v2').flatMap((e) => (e.data.steps as { instanceId: string; stepId: string; outcome: string }[]).filter((s) => s.instanceId === sent.data.instanceId).map((s) => `${s.stepId}:${s.outcome}`));
    await waitFor(() => batched().length === path.length - 1, 5000, 'step events');
    expect(batched()).toEqual(path.filter((p: string) => !p.startsWith('ab:')));
    expect(h.of('journeys.step.completed.v1', (d) => d.instanceId === sent.data.instanceId).map((e) => `${e.data.stepId}:${e.data.outcome}`)).toEqual([path.find((p: string) => p.startsWith('ab:'))]);
    expect(detail.body.history.find((s: { node: string }) => s.node === 'in_vip').reason).toMatch(/segment .* in and contact.plan eq "pro" is true/);
    const stats = await h.call('GET', `/v1/journeys/${id}/stats`);
    expect(stats.body.instances).toEqual({ exited: 1 });
    expect(stats.body.steps).toContainEqual({ node: 'send_now', outcome: 'sent', count: 1 });
    expect((await h.call('GET', `/v1/contacts/${contactId}/journey-instances`)).body).toHaveLength(1);
    await hook.close();
  });

  it('takes the timed-out branch and ends on goals and on unsubscribes', async () => {
    const id = await publishJourney(h, 'goals', {
      trigger: { type: 'api' },
      goals: [{ id: 'bought', event: 'Order Completed' }],
      exitCriteria: [{ type: 'unsubscribed', channel: 'email' }],
      start: 'w',
      nodes: { w: { type: 'wait_event', event: 'Never', timeout: '1s', onTimeout: 'hold' }, hold: { type: 'wait', duration: '1h', next: 's' }, s: { type: 'send', channel: 'email', templateId: 'x' } },
    });
    const [a, b] = [await h.contact(), await h.contact()];
    for (const c of [a, b]) expect((await h.call('POST', `/v1/journeys/${id}/trigger`, { contactId: c, payload: { coupon: 'X' } })).body.entered).toBe(true);
    await waitFor(async () => (await h.query(`SELECT count(*)::int AS n FROM journeys.instance WHERE journey_id = $1 AND current_node = 'hold'`, [id])).rows[0].n === 2, 8000, 'timeout branch');
    await h.track(a, 'Order Completed', {});
    await h.publish('crm.consent.changed.v1', { contactId: b, channel: 'email', state: 'unsubscribed', source: 'api', changedAt: new Date().toISOString() });
    expect((await waitFor(() => h.of('journeys.goal.reached.v1', (d) => d.contactId === a)[0])).data.goalId).toBe('bought');
    expect((await waitFor(() => h.of('journeys.instance.exited.v1', (d) => d.contactId === b)[0])).data).toMatchObject({ kind: 'exit_criteria', reason: 'unsubscribed from email' });
    expect((await h.call('GET', `/v1/journeys/${id}/stats`)).body.goals).toBe(1);
    expect(await h.query(`SELECT 1 FROM journeys.timer WHERE journey_id = $1`, [id])).toMatchObject({ rowCount: 0 });
  });

  it('applies entry rules: once, once at a time, cool-down, max entries, one instance per property value', async () => {
    const def = (entry: object, trigger: object = { type: 'api' }): object => ({ trigger, entry, start: 'w', nodes: { w: { type: 'wait', duration: '1h' } } });
    const once = await publishJourney(h, 'once', def({ mode: 'once' }));
    const atATime = await publishJourney(h, 'at a time', def({ mode: 'once_at_a_time', maxEntries: 2 }));
    const cool = await publishJourney(h, 'cool', def({ mode: 'cooldown', cooldown: '1h' }));
    const perCart = await publishJourney(h, 'per cart', def({ mode: 'once_at_a_time' }, { type: 'event', event: 'Cart Updated', instancePer: 'cartId' }));
    const c = await h.contact();
    const trigger = async (j: string): Promise<boolean> => (await h.call('POST', `/v1/journeys/${j}/trigger`, { contactId: c })).body.entered;
    expect([await trigger(once), await trigger(once)]).toEqual([true, false]);
    expect([await trigger(atATime), await trigger(atATime)]).toEqual([true, false]);
    await h.query(`UPDATE journeys.instance SET status = 'completed' WHERE journey_id = $1`, [atATime]);
    expect([await trigger(atATime), await trigger(atATime)]).toEqual([true, false]);
    await h.query(`UPDATE journeys.instance SET status = 'completed' WHERE journey_id = $1`, [atATime]);
    expect(await trigger(atATime)).toBe(false); // max 2 entries
    expect(await trigger(cool)).toBe(true);
    await h.query(`UPDATE journeys.instance SET status = 'completed', entered_at = now() - interval '2 hours' WHERE journey_id = $1`, [cool]);
    expect(await trigger(cool)).toBe(true);
    expect(await trigger(cool)).toBe(false);
    const same = uuidv4();
    expect((await h.call('POST', `/v1/journeys/${once}/trigger`, { contactId: uuidv4(), requestId: same })).body.entered).toBe(true);
    for (const cart of ['c1', 'c2', 'c1']) await h.track(c, 'Cart Updated', { cartId: cart });
    await waitFor(async () => (await h.query(`SELECT count(*)::int AS n FROM journeys.instance WHERE journey_id = $1`, [perCart])).rows[0].n === 2, 5000, 'per-cart instances');
    expect((await h.query(`SELECT entry_key FROM journeys.instance WHERE journey_id = $1 ORDER BY entry_key`, [perCart])).rows.map((r) => r.entry_key)).toEqual(['c1', 'c2']);
  });

  it('holds sends in quiet hours by contact timezone and caps messages across journeys', async () => {
    // A quiet window around the current UTC hour: a UTC contact is inside it, a Kolkata contact (UTC+5:30) is not.
    const hour = new Date().getUTCHours();
    const pad = (n: number): string => String((n + 24) % 24).padStart(2, '0');
    expect((await h.call('PUT', '/v1/journeys/settings', { quietHours: { start: `${pad(hour - 1)}:00`, end: `${pad(hour + 2)}:00`, behavior: 'hold' }, frequencyCaps: [] })).status).toBe(200);
    const quiet = await publishJourney(h, 'quiet', { trigger: { type: 'api' }, start: 's', nodes: { s: { type: 'send', channel: 'sms', templateId: 'promo' } } });
    const utc = await h.contact({}, 'UTC');
    const kolkata = await h.contact({}, 'Asia/Kolkata');
    for (const c of [utc, kolkata]) await h.call('POST', `/v1/journeys/${quiet}/trigger`, { contactId: c });
    await waitFor(() => h.of(MSG, (d) => d.contactId === kolkata)[0], 5000, 'kolkata send');
    const held = await h.query(`SELECT current_node, state FROM journeys.instance WHERE contact_id = $1`, [utc]);
    expect(held.rows[0].state.waiting).toMatchObject({ purpose: 'send_hold', node: 's' });
    expect(new Date(held.rows[0].state.waiting.dueAt).getUTCHours()).toBe((hour + 2) % 24);
    expect(h.of(MSG, (d) => d.contactId === utc)).toEqual([]);

    // Caps: one email per rolling day across journeys; the second journey skips.
    expect((await h.call('PUT', '/v1/journeys/settings', { quietHours: null, frequencyCaps: [{ channel: 'email', max: 1, window: '24h' }] })).status).toBe(200);
    const first = await publishJourney(h, 'cap 1', { trigger: { type: 'api' }, start: 's', nodes: { s: { type: 'send', channel: 'email', templateId: 'one' } } });
    const second = await publishJourney(h, 'cap 2', { trigger: { type: 'api' }, frequencyCaps: { behavior: 'skip' }, start: 's', nodes: { s: { type: 'send', channel: 'email', templateId: 'two' }, } });
    const third = await publishJourney(h, 'cap 3', { trigger: { type: 'api' }, start: 's', nodes: { s: { type: 'send', channel: 'email', templateId: 'three' } } });
    const c = await h.contact();
    await h.call('POST', `/v1/journeys/${first}/trigger`, { contactId: c });
    await waitFor(() => h.of(MSG, (d) => d.contactId === c)[0]);
    await h.call('POST', `/v1/journeys/${second}/trigger`, { contactId: c });
    await h.call('POST', `/v1/journeys/${third}/trigger`, { contactId: c });
    const rows = await waitFor(async () => {
      const r = await h.query(`SELECT journey_id, status, state FROM journeys.instance WHERE contact_id = $1`, [c]);
      return r.rows.length === 3 && r.rows.filter((x) => x.journey_id !== first).every((x) => x.status === 'completed' || x.state.waiting) ? r.rows : undefined;
    });
    expect(rows.find((r) => r.journey_id === second).status).toBe('completed');
    expect(rows.find((r) => r.journey_id === third).state.waiting.purpose).toBe('send_hold');
    const skipped = await h.call('GET', `/v1/journeys/${second}/stats`);
    expect(skipped.body.steps).toEqual([{ node: 's', outcome: 'skipped', count: 1 }]);
    expect(h.of(MSG, (d) => d.contactId === c).map((e) => e.data.templateId)).toEqual(['one']);
    await h.call('PUT', '/v1/journeys/settings', { frequencyCaps: [] });
  });

  it('starts journeys on segment entry and exits them when the contact leaves', async () => {
    const segment = uuidv4();
    await publishJourney(h, 'segment', { trigger: { type: 'segment_entered', segmentId: segment }, exitCriteria: [{ type: 'segment_exited', segmentId: segment }], start: 's', nodes: { s: { type: 'send', channel: 'push', templateId: 'hello', next: 'w' }, w: { type: 'wait', duration: '1h' } } });
    const c = await h.contact();
    const entered = uuidv4();
    await h.publish('segmentation.membership.entered.v1', { segmentId: segment, contactId: c, at: new Date().toISOString(), segmentVersion: 1 }, entered);
    await h.publish('segmentation.membership.entered.v1', { segmentId: segment, contactId: c, at: new Date().toISOString(), segmentVersion: 1 }, entered); // duplicate delivery
    await waitFor(() => h.of(MSG, (d) => d.contactId === c)[0]);
    await h.publish('segmentation.membership.exited.v1', { segmentId: segment, contactId: c, at: new Date().toISOString(), segmentVersion: 1 });
    expect((await waitFor(() => h.of('journeys.instance.exited.v1', (d) => d.contactId === c)[0])).data.reason).toBe(`left segment ${segment}`);
    expect(h.of(MSG, (d) => d.contactId === c)).toHaveLength(1);
  });

  it('pauses a journey whose template was deleted, with the reason visible', async () => {
    const id = await publishJourney(h, 'template gone', { trigger: { type: 'api' }, start: 's', nodes: { s: { type: 'send', channel: 'email', templateId: 'deleted-one' } } });
    await h.publish('messaging.template.missing.v1', { messageId: uuidv4(), contactId: uuidv4(), channel: 'email', templateId: 'deleted-one', journeyId: id, occurredAt: new Date().toISOString() });
    const paused = await waitFor(async () => {
      const j = await h.call('GET', `/v1/journeys/${id}`);
      return j.body.status === 'paused' ? j.body : undefined;
    });
    expect(paused.pausedReason).toMatch(/template_not_found/);
    expect(WS).toBeTruthy();
  });

  it('publishes with a warning when messaging cannot say whether the templates exist', async () => {
    const created = await h.call('POST', '/v1/journeys', { name: 'unchecked', definition: { trigger: { type: 'api' }, start: 's', nodes: { s: { type: 'send', channel: 'sms', templateId: 'anything' } } } });
    const published = await h.call('POST', `/v1/journeys/${created.body.id}/publish`);
    expect(published.status).toBe(201);
    expect(published.body.warnings).toEqual([expect.stringMatching(/^templates not checked: messaging did not answer/)]);
  });

  it('answers 400 pointing at the node for invalid graphs', async () => {
    const bad = await h.call('POST', '/v1/journeys', {
      name: 'bad',
      definition: {
        trigger: { type: 'event', event: 'Signed Up' },
        start: 'send_1',
        nodes: {
          send_1: { type: 'send', channel: 'email', templateId: 'w', next: 'wait_1' },
          wait_1: { type: 'wait_event', event: 'Clicked', onEvent: 'ghost' },
          orphan: { type: 'exit' },
        },
      },
    });
    expect(bad.status).toBe(400);
    const paths = bad.body.errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(['nodes.wait_1.onEvent', 'nodes.wait_1.timeout']);
    expect(bad.body.errors[0].node).toBe('wait_1');
    const cycle = await h.call('POST', '/v1/journeys', { name: 'cycle', definition: { trigger: { type: 'api' }, start: 'a', nodes: { a: { type: 'send', channel: 'sms', templateId: 't', next: 'b' }, b: { type: 'update_contact', attributes: { x: 1 }, next: 'a' }, lost: { type: 'exit' } } } });
    expect(cycle.status).toBe(400);
    expect(cycle.body.errors.map((e: { path: string }) => e.path)).toContain('nodes.lost');
    expect(JSON.stringify(cycle.body.errors)).toMatch(/cycle without a wait/);
    const noName = await h.call('POST', '/v1/journeys', { definition: {} });
    expect(noName.status).toBe(400);
  });

  it('publishes immutable versions; drafts change without touching them; pause, resume, archive', async () => {
    const def = { trigger: { type: 'api' }, start: 's', nodes: { s: { type: 'send', channel: 'email', templateId: 'v1' } } };
    const id = await publishJourney(h, 'versions', def);
    const edited = await h.call('PUT', `/v1/journeys/${id}`, { definition: { ...def, nodes: { s: { type: 'send', channel: 'email', templateId: 'v2' } } } });
    expect(edited.status).toBe(200);
    expect((await h.call('GET', `/v1/journeys/${id}/versions/1`)).body.definition.nodes.s.templateId).toBe('v1');
    expect((await h.call('POST', `/v1/journeys/${id}/publish`)).body.version.version).toBe(2);
    expect((await h.call('GET', `/v1/journeys/${id}/versions`)).body.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect((await h.call('POST', `/v1/journeys/${id}/pause`)).body.status).toBe('paused');
    expect((await h.call('POST', `/v1/journeys/${id}/pause`)).status).toBe(409);
    expect((await h.call('POST', `/v1/journeys/${id}/resume`)).body.status).toBe('active');
    expect((await h.call('POST', `/v1/journeys/${id}/archive`)).body.status).toBe('archived');
    expect((await h.call('GET', `/v1/journeys/${id}`, undefined, 'tsk_wrong_key_0000000000000000')).status).toBe(401);
  });

  it('installs every recipe as an editable draft that publishes', async () => {
    const recipes = (await h.call('GET', '/v1/journeys/recipes')).body as { name: string }[];
    expect(recipes.map((r) => r.name)).toEqual(['welcome-series', 'abandoned-cart', 'post-purchase', 'win-back', 'birthday', 're-engagement']);
    for (const r of recipes) {
      const installed = await h.call('POST', `/v1/journeys/recipes/${r.name}/install`);
      expect(installed.status).toBe(201);
      expect(installed.body.status).toBe('draft');
      expect((await h.call('POST', `/v1/journeys/${installed.body.id}/publish`)).status).toBe(201);
    }
    expect((await h.call('POST', '/v1/journeys/recipes/nope/install')).status).toBe(404);
  });

  it('simulates a journey on a virtual clock without sending anything', async () => {
    const installed = await h.call('POST', '/v1/journeys/recipes/abandoned-cart/install');
    const sim = await h.call('POST', `/v1/journeys/${installed.body.id}/simulate`, { payload: { cartId: 'c1', total: 250 }, start: '2026-03-01T10:00:00Z', contact: { attributes: { plan: 'pro' }, timezone: 'Europe/Paris' } });
    expect(sim.status).toBe(200);
    expect(sim.body.messages.map((m: { templateId: string; at: string }) => [m.templateId, m.at])).toEqual([
      ['cart-reminder', '2026-03-01T11:00:00.000Z'],
      ['cart-sms', '2026-03-02T11:00:00.000Z'],
    ]);
    expect(sim.body.path.map((p: { node: string; outcome: string }) => `${p.node}:${p.outcome}`)).toEqual(['wait_1h:waited', 'reminder:sent', 'wait_checkout:timed_out', 'big_cart:yes', 'sms:sent']);
    const converted = await h.call('POST', `/v1/journeys/${installed.body.id}/simulate`, { payload: { total: 10 }, start: '2026-03-01T10:00:00Z', events: [{ at: '2026-03-01T10:30:00Z', name: 'Order Completed' }] });
    expect(converted.body.final).toMatchObject({ status: 'converted', exitKind: 'goal' });
    expect(converted.body.messages).toEqual([]);
    expect(h.of('journeys.message.requested.v1', (d) => d.journeyId === installed.body.id)).toEqual([]);
  });

  it('keeps a newer update of a contact when its creation arrives late', async () => {
    const contactId = uuidv4();
    const row = async (): Promise<Record<string, unknown> | undefined> => (await h.query(`SELECT external_id, timezone, attributes FROM journeys.contact WHERE contact_id = $1`, [contactId])).rows[0];
    await h.publish('crm.contact.updated.v1', { contactId, fields: { timezone: 'Europe/Lisbon' }, attributes: { plan: 'pro' }, unset: [], updatedAt: new Date().toISOString() });
    await waitFor(row, 5000, 'the update');
    await h.publish('crm.contact.created.v1', { contactId, externalId: 'late-1', attributes: { plan: 'free', city: 'Porto', timezone: 'UTC' }, createdAt: new Date().toISOString() });
    const filled = await waitFor(async () => ((await row())?.external_id ? row() : undefined), 5000, 'the late creation');
    expect(filled).toEqual({ external_id: 'late-1', timezone: 'Europe/Lisbon', attributes: { plan: 'pro', city: 'Porto', timezone: 'UTC' } });
  });

  it('keeps what an update removed removed when the creation arrives late', async () => {
    const contactId = uuidv4();
    const row = async (): Promise<Record<string, unknown> | undefined> => (await h.query(`SELECT external_id, timezone, attributes FROM journeys.contact WHERE contact_id = $1`, [contactId])).rows[0];
    await h.publish('crm.contact.updated.v1', { contactId, fields: { timezone: null }, attributes: { plan: 'pro' }, unset: ['coupon'], updatedAt: new Date().toISOString() });
    await waitFor(row, 5000, 'the update');
    await h.publish('crm.contact.created.v1', { contactId, externalId: 'late-2', attributes: { plan: 'free', coupon: 'WELCOME10', timezone: 'Asia/Tokyo', city: 'Osaka' }, createdAt: new Date().toISOString() });
    const filled = await waitFor(async () => ((await row())?.external_id ? row() : undefined), 5000, 'the late creation');
    expect(filled).toEqual({ external_id: 'late-2', timezone: null, attributes: { plan: 'pro', city: 'Osaka' } });
  });

  it('brings nothing of an erased contact back when events about it arrive after the erasure', async () => {
    const [contactId, marker] = [uuidv4(), uuidv4()];
    const row = async (id: string): Promise<Record<string, unknown> | undefined> => (await h.query(`SELECT consent FROM journeys.contact WHERE contact_id = $1`, [id])).rows[0];
    const now = new Date().toISOString();
    await h.publish('crm.contact.created.v1', { contactId, externalId: 'erased-1', attributes: { plan: 'pro' }, createdAt: now });
    await waitFor(() => row(contactId), 5000, 'the contact');
    await h.publish('crm.contact.erased.v1', { contactId, erasedAt: now });
    await waitFor(async () => ((await row(contactId)) ? undefined : true), 5000, 'the erasure');
    // Late: a redelivered creation, an update, a consent change. Each subject is consumed in stream
    // order, so once the marker's events (published after them) are in, they were handled.
    await h.publish('crm.contact.created.v1', { contactId, externalId: 'erased-1', attributes: { plan: 'pro' }, createdAt: now });
    await h.publish('crm.contact.updated.v1', { contactId, fields: {}, attributes: { plan: 'max' }, unset: [], updatedAt: now });
    await h.publish('crm.consent.changed.v1', { contactId, channel: 'email', state: 'subscribed', source: 'test', changedAt: now });
    await h.publish('crm.contact.created.v1', { contactId: marker, attributes: {}, createdAt: now });
    await h.publish('crm.contact.updated.v1', { contactId: marker, fields: {}, attributes: { seen: true }, unset: [], updatedAt: now });
    await h.publish('crm.consent.changed.v1', { contactId: marker, channel: 'email', state: 'subscribed', source: 'test', changedAt: now });
    await waitFor(async () => {
      const r = await h.query(`SELECT 1 FROM journeys.contact WHERE contact_id = $1 AND attributes ? 'seen' AND consent ? 'email'`, [marker]);
      return r.rowCount ? true : undefined;
    }, 5000, 'the marker events');
    expect(await row(contactId)).toBeUndefined();
  });

  it('starts a journey from a track that arrived before its sender was a known contact', async () => {
    const id = await publishJourney(h, 'early sign-up', { trigger: { type: 'event', event: 'Signed Up' }, start: 'done', nodes: { done: { type: 'exit', reason: 'welcomed' } } });
    const [userId, now] = [`early-${uuidv4()}`, new Date().toISOString()];
    const track = (name: string, messageId: string): Promise<void> =>
      h.publish('ingestion.event.received.v1', { type: 'track', name, properties: { plan: 'pro' }, messageId, userId, routingKey: userId, timestamp: now, receivedAt: now, sourceId: uuidv4(), context: {} }, messageId);
    const signedUp = uuidv4();
    await track('Page Viewed', uuidv4()); // starts no journey: not kept
    await track('Signed Up', signedUp);
    await track('Signed Up', signedUp); // a redelivery: kept once
    const waiting = async (): Promise<string[]> => (await h.query(`SELECT name FROM journeys.unresolved_event WHERE user_id = $1`, [userId])).rows.map((r) => r.name as string);
    await waitFor(async () => ((await waiting()).length ? true : undefined), 5000, 'the event kept');
    expect(await waiting()).toEqual(['Signed Up']);
    expect(h.of('journeys.instance.entered.v1', (d) => d.journeyId === id)).toEqual([]);

    // The CRM's creation of her profile arrives (twice: at least once): one instance, from the kept event.
    const contactId = uuidv4();
    await h.publish('crm.contact.created.v1', { contactId, externalId: userId, attributes: {}, createdAt: now });
    await h.publish('crm.contact.created.v1', { contactId, externalId: userId, attributes: {}, createdAt: now });
    const entered = await waitFor(() => h.of('journeys.instance.entered.v1', (d) => d.journeyId === id)[0], 5000, 'the journey entered');
    expect(entered.data.contactId).toBe(contactId);
    await waitFor(async () => ((await waiting()).length ? undefined : true), 5000, 'the kept event removed');
    const instances = await h.query(`SELECT state->'trigger' AS trigger FROM journeys.instance WHERE journey_id = $1`, [id]);
    expect(instances.rows).toEqual([{ trigger: expect.objectContaining({ event: 'Signed Up', plan: 'pro' }) }]);
    const metrics = await (await fetch(`${h.journeys.url}/metrics`)).text();
    for (const outcome of ['kept', 'replayed']) expect(Number(metrics.match(new RegExp(`journeys_unresolved_events_total\\{outcome="${outcome}"\\} (\\d+)`))?.[1])).toBeGreaterThanOrEqual(1);
  });

  it('forgets unclaimed events after an hour, and those of an erased contact at once', async () => {
    const [stale, erasedUser, contactId] = [`stale-${uuidv4()}`, `gone-${uuidv4()}`, uuidv4()];
    await h.query(`INSERT INTO journeys.unresolved_event (workspace_id, user_id, event_id, name, properties, at, received_at) VALUES ($1, $2, $3, 'Signed Up', '{}', now()::text, now() - interval '61 minutes')`, [WS, stale, uuidv4()]);
    const repo = h.journeys.app.get(UnresolvedEventsRepository);
    expect(await repo.pending(WS, [stale])).toEqual([]);
    expect(await repo.expire()).toBeGreaterThanOrEqual(1);
    expect((await h.query(`SELECT 1 FROM journeys.unresolved_event WHERE user_id = $1`, [stale])).rowCount).toBe(0);

    // An event kept for her external id (parkUnknown's race: kept just as her contact arrived) goes with her erasure.
    await h.publish('crm.contact.created.v1', { contactId, externalId: erasedUser, attributes: {}, createdAt: new Date().toISOString() });
    await waitFor(async () => (await h.query(`SELECT 1 FROM journeys.contact WHERE contact_id = $1`, [contactId])).rowCount, 5000, 'the contact');
    await h.query(`INSERT INTO journeys.unresolved_event (workspace_id, user_id, event_id, name, properties, at) VALUES ($1, $2, $3, 'Signed Up', '{"email":"x@example.com"}', now()::text)`, [WS, erasedUser, uuidv4()]);
    await h.publish('crm.contact.erased.v1', { contactId, erasedAt: new Date().toISOString() });
    await waitFor(async () => ((await h.query(`SELECT 1 FROM journeys.unresolved_event WHERE user_id = $1`, [erasedUser])).rowCount ? undefined : true), 5000, 'the erasure');
  });

  it("publishes a step's events itself right after commit, with the outbox relay stopped", async () => {
    const id = await publishJourney(h, 'hand-off', { trigger: { type: 'api' }, start: 's', nodes: { s: { type: 'send', channel: 'email', templateId: 'x' } } });
    const contactId = await h.contact();
    // Stopped, the relay publishes nothing: whatever reaches the bus was handed off by the step's own transaction.
    await h.journeys.app.get(OutboxRelayService).relay.stop();
    try {
      expect((await h.call('POST', `/v1/journeys/${id}/trigger`, { contactId, payload: {} })).body.entered).toBe(true);
      const sent = await waitFor(() => h.of(MSG, (d) => d.contactId === contactId)[0], 4000, 'message requested without the relay');
      expect(sent.data).toMatchObject({ journeyId: id, stepId: 's' });
      expect((await h.query('SELECT count(*)::int AS n FROM journeys.outbox_batch')).rows[0].n).toBe(0);
    } finally {
      await h.restart(); // a relay of its own again for the tests after this one
    }
  });

  it('publishes only envelopes that satisfy their contracts', () => {
    expect(h.seen.length).toBeGreaterThan(0);
    expect(contractViolations(h.seen)).toEqual([]);
  });
});
