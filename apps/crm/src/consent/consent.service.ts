import { Inject, Injectable, NotFoundException, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { outboxRow } from '@tessera/bus';
import { CONSENT_CHANGED_V1, type Channel, type ConsentState } from '@tessera/contracts';
import { SERVICE_CONFIG } from '@tessera/service-kit';
import type { CrmConfig } from '../config/crm.config';
import { ContactStore } from '../contacts/contact-store.repository';
import { normalizePhone } from '../contacts/normalize';
import type { ConsentView } from './consent.dto';
import { ConsentRepository } from './consent.repository';
import { signUnsubscribeToken, verifyUnsubscribeToken } from './unsubscribe-token';

export interface ConsentInput {
  channel: Channel;
  group?: string;
  state: ConsentState;
  source: string;
  changedAt: Date;
}

const TOKEN_DAYS = 365;

/** Consent per channel and subscription group, with its history; every source goes through `change`. */
@Injectable()
export class ConsentService {
  constructor(
    private readonly store: ContactStore,
    private readonly consent: ConsentRepository,
    @Inject(SERVICE_CONFIG) private readonly config: CrmConfig,
  ) {}

  async set(workspaceId: string, contactId: string, input: ConsentInput): Promise<ConsentView> {
    const id = await this.store.tx(async (c) => {
      const contact = await this.store.lockLive(c, workspaceId, contactId);
      if (!contact || contact.erasedAt) throw new NotFoundException('Contact not found');
      await this.change(c, workspaceId, contact.id, input);
      return contact.id;
    });
    return this.get(workspaceId, id);
  }

  async get(workspaceId: string, contactId: string): Promise<ConsentView> {
    // One snapshot: read apart, a change committing between the reads shows as current but not yet in the history.
    return this.store.tx(async (c) => {
      await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const contact = await this.store.resolve(c, workspaceId, contactId);
      if (!contact || contact.erasedAt) throw new NotFoundException('Contact not found');
      const current = await this.consent.current(c, contact.id);
      const history = await this.consent.history(c, contact.id);
      return { contactId: contact.id, current, history };
    });
  }

  /** STOP/START from an inbound SMS or WhatsApp message: every live contact with that number. */
  async fromInbound(workspaceId: string, eventId: string, from: string, input: Omit<ConsentInput, 'channel'> & { channel: 'sms' | 'whatsapp' }): Promise<number> {
    const phone = normalizePhone(from);
    if (!phone) return 0;
    return this.store.tx(async (c) => {
      if (!(await this.store.claimEvents(c, [eventId])).size) return 0;
      const ids = await this.consent.liveByPhone(c, workspaceId, phone);
      await this.store.lockMany(c, workspaceId, ids);
      for (const id of ids) await this.change(c, workspaceId, id, input);
      return ids.length;
    });
  }

  /**
   * An unsubscribe link used in a message: messaging publishes the request, the CRM owns consent.
   * Applied once per event; an unknown or erased contact has nothing to change.
   */
  async fromUnsubscribeRequest(workspaceId: string, eventId: string, contactId: string, input: ConsentInput): Promise<void> {
    await this.store.tx(async (c) => {
      if (!(await this.store.claimEvents(c, [eventId])).size) return;
      const contact = await this.store.lockLive(c, workspaceId, contactId);
      if (!contact || contact.erasedAt) return;
      await this.change(c, workspaceId, contact.id, input);
    });
  }

  issueToken(workspaceId: string, contactId: string, channel: Channel, group?: string): { token: string; expiresAt: string } {
    const exp = Math.floor(Date.now() / 1000) + TOKEN_DAYS * 86400;
    return { token: signUnsubscribeToken({ w: workspaceId, c: contactId, ch: channel, ...(group ? { g: group } : {}), exp }, this.secret()), expiresAt: new Date(exp * 1000).toISOString() };
  }

  async unsubscribe(token: string): Promise<{ contactId: string; channel: string; group: string | null; state: 'unsubscribed' }> {
    const claims = verifyUnsubscribeToken(token, this.secret());
    if (!claims) throw new UnauthorizedException('Invalid or expired unsubscribe token');
    const view = await this.set(claims.w, claims.c, { channel: claims.ch as Channel, group: claims.g, state: 'unsubscribed', source: 'unsubscribe_link', changedAt: new Date() });
    return { contactId: view.contactId, channel: claims.ch, group: claims.g ?? null, state: 'unsubscribed' };
  }

  private secret(): string {
    if (!this.config.CRM_UNSUBSCRIBE_SECRET) throw new ServiceUnavailableException('Unsubscribe links are not configured (CRM_UNSUBSCRIBE_SECRET)');
    return this.config.CRM_UNSUBSCRIBE_SECRET;
  }

  private async change(c: PoolClient, workspaceId: string, contactId: string, input: ConsentInput): Promise<void> {
    const changed = await this.consent.apply(c, { workspaceId, contactId, channel: input.channel, group: input.group ?? '', state: input.state, source: input.source, changedAt: input.changedAt });
    if (!changed) return;
    await this.store.outbox(c, [
      outboxRow(
        'crm',
        CONSENT_CHANGED_V1.subject,
        { contactId, channel: input.channel, ...(input.group ? { group: input.group } : {}), state: input.state, source: input.source, changedAt: input.changedAt.toISOString() },
        { workspaceId, occurredAt: input.changedAt },
      ),
    ]);
  }
}
