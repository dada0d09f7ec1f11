import { Injectable } from '@nestjs/common';
import { OnEvents, type Delivered } from '@tessera/bus';
import { ALIAS_RECEIVED_V1, GROUP_RECEIVED_V1, IDENTIFY_RECEIVED_V1 } from '@tessera/contracts';
import { IdentityService } from './identity.service';

/**
 * Identity events from ingestion, batched for throughput. Track/page/screen events
 * (`ingestion.event.received.v1`) are deliberately not consumed: the CRM learns about a visitor
 * once an identify, alias or group call names them, not from every anonymous page view.
 */
@Injectable()
export class IdentityHandlers {
  constructor(private readonly identity: IdentityService) {}

  // Two batches at once over different users (bench/crm/identify: the one batch in flight left
  // the machine idle while it waited on Postgres); one user's identifies stay in stream order,
  // since profile fields (email, phone...) take the last value applied.
  @OnEvents(IDENTIFY_RECEIVED_V1.subject, { maxSize: 500, inFlight: 2, ordered: true })
  async onIdentify(events: Delivered<typeof IDENTIFY_RECEIVED_V1.subject>[]): Promise<void> {
    await this.identity.apply(events.map((e) => ({ kind: 'identify', e })));
  }

  @OnEvents(ALIAS_RECEIVED_V1.subject, { maxSize: 500 })
  async onAlias(events: Delivered<typeof ALIAS_RECEIVED_V1.subject>[]): Promise<void> {
    await this.identity.apply(events.map((e) => ({ kind: 'alias', e })));
  }

  @OnEvents(GROUP_RECEIVED_V1.subject, { maxSize: 500 })
  async onGroup(events: Delivered<typeof GROUP_RECEIVED_V1.subject>[]): Promise<void> {
    await this.identity.apply(events.map((e) => ({ kind: 'group', e })));
  }
}
