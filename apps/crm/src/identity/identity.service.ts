import { Injectable, Logger } from '@nestjs/common';
import type { Delivered } from '@tessera/bus';
import type { ALIAS_RECEIVED_V1, GROUP_RECEIVED_V1, IDENTIFY_RECEIVED_V1 } from '@tessera/contracts';
import { AttributesRepository } from '../attributes/attributes.repository';
import { ContactMergeService } from '../contacts/contact-merge.service';
import { ContactStore } from '../contacts/contact-store.repository';
import { IdentityRepository, type IdentityKey } from './identity.repository';
import { ResolutionBatch } from './resolution-batch';

type Identify = Delivered<typeof IDENTIFY_RECEIVED_V1.subject>;
type Alias = Delivered<typeof ALIAS_RECEIVED_V1.subject>;
type Group = Delivered<typeof GROUP_RECEIVED_V1.subject>;
export type TrackingEvent = { kind: 'identify'; e: Identify } | { kind: 'alias'; e: Alias } | { kind: 'group'; e: Group };

/**
 * Applies identity events from ingestion in batches: one transaction per batch, idempotent on
 * envelope ids, identities locked (advisory, sorted) so concurrent batches and API upserts for the
 * same person serialise instead of creating duplicates.
 */
@Injectable()
export class IdentityService {
  private readonly log = new Logger(IdentityService.name);

  constructor(
    private readonly store: ContactStore,
    private readonly identities: IdentityRepository,
    private readonly merger: ContactMergeService,
    private readonly attributes: AttributesRepository,
  ) {}

  async apply(batch: TrackingEvent[]): Promise<void> {
    await this.store.tx(async (c) => {
      const fresh = await this.store.claimEvents(c, batch.map((b) => b.e.envelope.id));
      // A redelivery can sit in the same batch as the original: keep the first of each id.
      const todo = batch.filter((b) => fresh.delete(b.e.envelope.id));
      if (!todo.length) return;
      const keys: IdentityKey[] = [];
      for (const { kind, e } of todo) {
        const ws = e.envelope.workspaceId;
        if (e.data.userId) keys.push({ workspaceId: ws, kind: 'external_id', value: e.data.userId });
        if (e.data.anonymousId) keys.push({ workspaceId: ws, kind: 'anonymous_id', value: e.data.anonymousId });
        if (kind === 'alias') keys.push({ workspaceId: ws, kind: 'external_id', value: e.data.previousId }, { workspaceId: ws, kind: 'anonymous_id', value: e.data.previousId });
      }
      await this.store.lockIdentities(c, keys.map((k) => `${k.workspaceId}:${k.kind}:${k.value}`));
      const resolution = new ResolutionBatch(c, { store: this.store, identities: this.identities, merger: this.merger, attributes: this.attributes });
      await resolution.load(keys);
      for (const item of todo) {
        const ws = item.e.envelope.workspaceId;
        if (item.kind === 'identify') await resolution.identify(ws, item.e.data);
        else if (item.kind === 'alias') await resolution.alias(ws, item.e.data);
        else await resolution.group(ws, item.e.data);
      }
      await resolution.finish();
      if (resolution.problems.length) this.log.warn({ problems: resolution.problems.slice(0, 20), count: resolution.problems.length }, 'dropped invalid traits');
    });
  }
}
