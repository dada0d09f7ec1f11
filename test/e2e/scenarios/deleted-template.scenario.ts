// Scenario 7: journeys checks a journey's templates with messaging before publishing it; later an
// operator deletes a template the live journey still sends. The next send to it fails in messaging,
// which announces the missing template; journeys pauses the journey with the reason on it instead
// of failing every later entry silently.
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { Platform } from '../support/platform';
import { messagingKnows, publishJourney, publishTemplate } from './steps';

export function deletedTemplateScenario(platform: () => Platform): void {
  it('deleted template: the journey that sends it pauses, with the reason visible', async () => {
    const p = platform();
    const template = await publishTemplate(p, { name: 'dt-welcome', channel: 'email', content: { locales: { default: { subject: 'Welcome {{contact.attributes.firstName}}', text: 'Hello {{contact.attributes.firstName}}.' } } } });
    // Publishing checks the templates with messaging: a missing one, or one for another channel, is refused at the node.
    const draft = await p.api('journeys', 'POST', '/v1/journeys', {
      name: 'welcome with typos',
      definition: { trigger: { type: 'api' }, start: 'mail', nodes: { mail: { type: 'send', channel: 'email', templateId: 'dt-welcom', next: 'text' }, text: { type: 'send', channel: 'sms', templateId: template } } },
    });
    expect(draft.status).toBe(201);
    const refused = await p.api('journeys', 'POST', `/v1/journeys/${draft.body.id}/publish`);
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      { path: 'nodes.mail.templateId', node: 'mail', messages: ['unknown template dt-welcom'] },
      { path: 'nodes.text.templateId', node: 'text', messages: [`template ${template} is for email, not sms`] },
    ]);
    // So is a broadcast's.
    const campaign = await p.api('journeys', 'POST', '/v1/campaigns', { name: 'typo blast', segmentId: randomUUID(), action: { type: 'send', channel: 'email', templateId: 'dt-welcom' }, scheduledAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(campaign.status).toBe(400);
    expect(campaign.body.errors).toEqual([{ path: 'action.templateId', messages: ['unknown template dt-welcom'] }]);

    const journeyId = await publishJourney(p, 'welcome by api', { trigger: { type: 'api' }, start: 'mail', nodes: { mail: { type: 'send', channel: 'email', templateId: template, next: 'done' }, done: { type: 'exit' } } });

    const contact = async (email: string, firstName: string): Promise<string> => {
      const created = await p.api('crm', 'POST', '/v1/contacts', { email, attributes: { firstName } });
      expect(created.status).toBe(201);
      await messagingKnows(p, template, created.body.id, firstName);
      return created.body.id as string;
    };
    const hana = await contact('hana@example.com', 'Hana');
    expect((await p.api('journeys', 'POST', `/v1/journeys/${journeyId}/trigger`, { contactId: hana })).body).toMatchObject({ entered: true });
    await p.eventually(() => p.smtp.received.find((m) => m.to === 'hana@example.com'), "Hana's welcome email");

    // The template goes; the journey does not know yet.
    const ivo = await contact('ivo@example.com', 'Ivo');
    expect((await p.api('messaging', 'DELETE', `/v1/templates/${template}`)).status).toBe(204);
    expect((await p.api('journeys', 'GET', `/v1/journeys/${journeyId}`)).body.status).toBe('active');
    expect((await p.api('journeys', 'POST', `/v1/journeys/${journeyId}/trigger`, { contactId: ivo })).body).toMatchObject({ entered: true });

    // Ivo's send fails for the missing template, and the journey pauses saying why.
    const paused = await p.eventually(async () => {
      const j = await p.api('journeys', 'GET', `/v1/journeys/${journeyId}`);
      return j.body.status === 'paused' ? j.body : undefined;
    }, 'the journey to pause');
    expect(paused.pausedReason).toBe(`template_not_found: template ${template} no longer exists`);
    const messages = await p.api('messaging', 'GET', `/v1/contacts/${ivo}/messages`);
    const list = Array.isArray(messages.body) ? messages.body : messages.body.items;
    expect(list.map((m: { status: string; failureReason: string }) => [m.status, m.failureReason])).toEqual([['failed', `unknown_template: no published template ${template}`]]);
    expect(p.smtp.received.some((m) => m.to === 'ivo@example.com')).toBe(false);

    // A paused journey takes no one in until it is resumed.
    expect((await p.api('journeys', 'POST', `/v1/journeys/${journeyId}/trigger`, { contactId: hana, requestId: 'after-pause' })).status).toBe(409);
  });
}
