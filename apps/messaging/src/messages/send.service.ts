import { Inject, Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import type { OutboxRow } from '@tessera/bus';
import type { MessageStatus } from '@tessera/contracts';
import { sendWithRetry, type ChannelMessages, type ProviderChannel, type RetryPolicy } from '@tessera/provider-core';
import { SpanKind, withSpan } from '@tessera/observability';
import { SERVICE_CONFIG } from '@tessera/service-kit';
import type { MessagingConfig } from '../config/messaging.config';
import { ContactsRepository } from '../contacts/contacts.repository';
import type { Contact, Message } from '../generated/prisma/client';
import { ProvidersService } from '../providers/providers.service';
import { RenderError, type ChannelContent } from '../templates/renderer';
import { TemplatesService, type ResolvedTemplate } from '../templates/templates.service';
import { TrackingLinks } from '../tracking/tracking-links';
import { MessagesRepository, type NewMessage } from './messages.repository';
import { applyOverrides } from './overrides';
import { statusChanged, templateMissing } from './status-events';

export interface SendRequest {
  workspaceId: string;
  idempotencyKey: string;
  contactId: string;
  channel: ProviderChannel;
  templateId: string;
  data: Record<string, unknown>;
  /** Per-send replacements of rendered parts, and a provider to try first (see overrides.ts). */
  overrides?: Record<string, unknown>;
  journeyId?: string;
  campaignId?: string;
}

/** Thrown when trying again later may succeed (bus handlers let the bus redeliver). */
export class RetryLaterError extends Error {}

const WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * The send pipeline: idempotency (unique insert as `queued` before any vendor call) -> contact,
 * consent and suppression -> render -> per-provider token bucket -> send with short retries ->
 * fallback provider. Every outcome is a status change with history and an outbox event.
 */
@Injectable()
export class SendService {
  private readonly retry: RetryPolicy;

  constructor(
    private readonly messages: MessagesRepository,
    private readonly contacts: ContactsRepository,
    private readonly templates: TemplatesService,
    private readonly providers: ProvidersService,
    private readonly links: TrackingLinks,
    @Inject(SERVICE_CONFIG) private readonly config: MessagingConfig,
  ) {
    this.retry = { attempts: config.MESSAGING_SEND_ATTEMPTS, baseDelayMs: config.MESSAGING_RETRY_BASE_MS, maxDelayMs: config.MESSAGING_RETRY_BASE_MS * 8 };
  }

  /**
   * Sends at most once per (workspace, idempotency key). `finalAttempt` false lets transient
   * failures end in RetryLaterError (the lease is released, the bus redelivers); true records them.
   */
  async send(request: SendRequest, finalAttempt = true): Promise<Message> {
    const lease = this.config.MESSAGING_SEND_LEASE_SECONDS;
    const queued: NewMessage = { id: uuidv7(), workspaceId: request.workspaceId, idempotencyKey: request.idempotencyKey, contactId: request.contactId, channel: request.channel, templateId: request.templateId, journeyId: request.journeyId ?? null, campaignId: request.campaignId ?? null };
    const inserted = await this.messages.insertQueued(queued, lease, statusChanged({ ...queued, templateVersion: null }, 'queued'));
    let message = inserted.message;
    if (!inserted.created) {
      if (message.status !== 'queued') return message; // already done: a repeat never sends twice
      const claimed = await this.messages.claimQueued(message.id, lease);
      if (!claimed) {
        if (finalAttempt) return message;
        throw new RetryLaterError(`message ${message.id} is being sent by another worker`);
      }
      message = claimed;
    }
    return this.process(message, request, finalAttempt);
  }

  private async process(message: Message, request: SendRequest, finalAttempt: boolean): Promise<Message> {
    const contact = await this.contacts.find(request.workspaceId, request.contactId);
    if (!contact) {
      if (!finalAttempt) {
        await this.messages.releaseLease(message.id, 0);
        throw new RetryLaterError(`contact ${request.contactId} not in the projection yet`);
      }
      return this.finish(message, 'failed', 'unknown_contact');
    }
    const template = await this.templates.resolveForSend(request.workspaceId, request.templateId);
    if (!template) return this.finish(message, 'failed', `unknown_template: no published template ${request.templateId}`, {}, templateMissing);
    if (template.channel !== request.channel) return this.finish(message, 'failed', `unknown_channel: template ${request.templateId} is for ${template.channel}, not ${request.channel}`);
    message = { ...message, templateVersion: template.version };

    const recipient = recipientOf(contact, request.channel);
    if (!recipient.ok) return this.finish(message, 'failed', `invalid_recipient: ${recipient.reason}`, { templateVersion: template.version });
    const refusal = await this.refusal(contact, request.channel, recipient.address, template);
    if (refusal) return this.finish(message, 'suppressed', refusal, { templateVersion: template.version, recipient: recipient.address });

    let rendered: ChannelContent;
    const unsubscribeUrl = request.channel === 'webhook' ? undefined : this.links.unsubscribeUrl(message.id);
    try {
      rendered = await this.templates.render(request.workspaceId, template, { ...request.data, contact: ContactsRepository.templateView(contact), message: { id: message.id }, unsubscribeUrl }, contact.locale);
    } catch (error) {
      if (error instanceof RenderError) return this.finish(message, 'failed', `render_error: ${error.message}`, { templateVersion: template.version, recipient: recipient.address });
      throw error;
    }
    const overridden = applyOverrides(rendered, request.overrides);
    if (!overridden.ok) return this.finish(message, 'failed', `invalid_overrides: ${overridden.reason}`, { templateVersion: template.version, recipient: recipient.address });
    rendered = overridden.content;
    if (rendered.channel === 'whatsapp' && !rendered.templateName && !withinServiceWindow(contact)) {
      return this.finish(message, 'suppressed', 'outside_customer_service_window: only approved templates may be sent 24h after the last inbound message', { templateVersion: template.version, recipient: recipient.address });
    }
    const { outbound, links } = this.toProviderMessage(message, rendered, recipient.address, unsubscribeUrl);
    // Stored before the vendor call: a recipient (or a mail scanner) may click the moment it lands.
    if (links?.length) await this.messages.setLinks(message.id, links);
    return this.dispatch(message, outbound, { templateVersion: template.version, recipient: recipient.address, subscriptionGroup: template.subscriptionGroup, links }, finalAttempt, overridden.provider);
  }

  private async dispatch(message: Message, outbound: ChannelMessages[ProviderChannel], fields: Partial<Message>, finalAttempt: boolean, preferredProvider?: string): Promise<Message> {
    const configured = await this.providers.forChannel(message.workspaceId, message.channel);
    // A send may name the provider configuration to try first; the others stay as fallbacks.
    const candidates = preferredProvider ? [...configured.filter((c) => c.config.id === preferredProvider), ...configured.filter((c) => c.config.id !== preferredProvider)] : configured;
    if (!candidates.length) return this.finish(message, 'failed', `no_provider: no ${message.channel} provider configured`, fields);
    const transient: string[] = [];
    let attempts = 0;
    for (const { config, provider, bucket } of candidates) {
      await bucket?.take();
      // One client span per provider, around its tries (vendor HTTP calls carry no span of their own: see callVendor).
      const outcome = await withSpan(`send ${config.providerId}`, SpanKind.CLIENT, { 'messaging.provider': config.providerId, 'messaging.channel': message.channel }, () => sendWithRetry(provider, outbound, this.retry));
      attempts += outcome.attempts;
      if (outcome.ok) return this.finish(message, 'sent', config.name, { ...fields, providerConfigId: config.id, providerMessageId: outcome.result.providerMessageId, attempts: message.attempts + attempts });
      if (!outcome.error.retryable) return this.finish(message, 'failed', `${config.providerId}: ${outcome.error.reason}`, { ...fields, providerConfigId: config.id, attempts: message.attempts + attempts });
      transient.push(`${config.name}: ${outcome.error.reason}`);
    }
    if (!finalAttempt) {
      await this.messages.releaseLease(message.id, attempts);
      throw new RetryLaterError(`every provider failed transiently: ${transient.join('; ')}`);
    }
    return this.finish(message, 'failed', `providers_unavailable: ${transient.join('; ')}`, { ...fields, attempts: message.attempts + attempts });
  }

  private async refusal(contact: Contact, channel: string, address: string, template: ResolvedTemplate): Promise<string | undefined> {
    const consent = (contact.consent ?? {}) as Record<string, string>;
    if (consent[channel] === 'unsubscribed') return `unsubscribed: contact opted out of ${channel}`;
    if (template.subscriptionGroup && consent[`${channel}:${template.subscriptionGroup}`] === 'unsubscribed') return `unsubscribed: contact opted out of ${channel}/${template.subscriptionGroup}`;
    const suppressed = await this.messages.suppressionFor(contact.workspaceId, channel, [address, contact.id]);
    if (suppressed) return `suppressed: ${suppressed.reason}`;
    return undefined;
  }

  private toProviderMessage(message: Message, rendered: ChannelContent, to: string, unsubscribeUrl: string | undefined): { outbound: ChannelMessages[ProviderChannel]; links?: string[] } {
    if (rendered.channel === 'email') {
      const tracked = rendered.html ? this.links.trackHtml(rendered.html, message.id, unsubscribeUrl) : undefined;
      return { outbound: { to, subject: rendered.subject, html: tracked?.html, text: rendered.text, unsubscribeUrl, idempotencyKey: message.id }, links: tracked?.links };
    }
    return { outbound: this.otherMessage(message, rendered, to) };
  }

  private otherMessage(message: Message, rendered: Exclude<ChannelContent, { channel: 'email' }>, to: string): ChannelMessages[ProviderChannel] {
    const idempotencyKey = message.id;
    switch (rendered.channel) {
      case 'sms':
        return { to, body: rendered.body, idempotencyKey };
      case 'push':
        return { to, title: rendered.title, body: rendered.body, data: rendered.data, idempotencyKey };
      case 'webhook': {
        let payload: Record<string, unknown>;
        try {
          payload = JSON.parse(rendered.payload) as Record<string, unknown>;
        } catch {
          payload = { text: rendered.payload };
        }
        return { to, payload, idempotencyKey };
      }
      case 'whatsapp':
        if (rendered.templateName) return { kind: 'template', to, idempotencyKey, template: { name: rendered.templateName, language: rendered.language ?? 'en', bodyParameters: rendered.parameters } };
        if (rendered.buttons?.length) return { kind: 'interactive', to, idempotencyKey, body: rendered.text ?? '', buttons: rendered.buttons };
        return { kind: 'text', to, idempotencyKey, text: rendered.text ?? '' };
    }
  }

  /** Records how the send ended, with its status event and, when `alsoPublish` is given, the event it makes. */
  private async finish(message: Message, status: MessageStatus, detail: string, fields: Partial<Message> = {}, alsoPublish?: (message: Message, occurredAt: Date) => OutboxRow): Promise<Message> {
    const updated: Message = { ...message, ...fields, status, failureReason: status === 'sent' ? null : detail, claimedUntil: null };
    const occurredAt = new Date();
    const events = [statusChanged(updated, status, status === 'sent' ? undefined : detail, occurredAt)];
    if (alsoPublish) events.push(alsoPublish(updated, occurredAt));
    await this.messages.recordOutcome({ message: updated, detail, events, occurredAt });
    return updated;
  }
}

function recipientOf(contact: Contact, channel: ProviderChannel): { ok: true; address: string } | { ok: false; reason: string } {
  switch (channel) {
    case 'email':
      return contact.email && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(contact.email) ? { ok: true, address: contact.email } : { ok: false, reason: 'contact has no valid email address' };
    case 'sms':
    case 'whatsapp':
      return contact.phone && /^\+[1-9]\d{6,14}$/.test(contact.phone) ? { ok: true, address: contact.phone } : { ok: false, reason: 'contact has no E.164 phone number' };
    case 'push': {
      // Device tokens arrive as the `pushToken` attribute until the CRM models devices.
      const token = (contact.attributes as Record<string, unknown>).pushToken;
      return typeof token === 'string' && token ? { ok: true, address: token } : { ok: false, reason: 'contact has no pushToken attribute' };
    }
    case 'webhook':
      return { ok: true, address: contact.id };
  }
}

function withinServiceWindow(contact: Contact): boolean {
  return !!contact.lastInboundAt && Date.now() - contact.lastInboundAt.getTime() < WINDOW_MS;
}
