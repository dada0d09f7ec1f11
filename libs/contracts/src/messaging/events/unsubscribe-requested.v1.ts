import { IsIn, IsISO8601, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';
import { CHANNELS, type Channel } from '../../crm/events/consent-changed.v1';

export class UnsubscribeRequestedV1 {
  @IsUUID()
  contactId!: string;

  @IsIn(CHANNELS)
  channel!: Channel;

  /** A subscription group (e.g. `newsletter`); absent for the whole channel. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  group?: string;

  /** `one_click` (RFC 8058 POST), `unsubscribe_link`, `preference_center`. */
  @IsString()
  @MaxLength(100)
  source!: string;

  /** The message whose link was used. */
  @IsOptional()
  @IsUUID()
  messageId?: string;

  @IsISO8601()
  requestedAt!: string;
}

export const UNSUBSCRIBE_REQUESTED_V1 = defineEvent({
  subject: eventSubject('messaging', 'unsubscribe', 'requested', 1),
  payload: UnsubscribeRequestedV1,
  description: 'A contact used an unsubscribe or preference link. The CRM owns consent: it consumes this and publishes crm.consent.changed.v1.',
  partitionKey: 'contactId',
});
