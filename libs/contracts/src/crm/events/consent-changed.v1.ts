import { IsIn, IsISO8601, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

export const CHANNELS = ['email', 'sms', 'whatsapp', 'push'] as const;
export type Channel = (typeof CHANNELS)[number];
export const CONSENT_STATES = ['subscribed', 'unsubscribed', 'never_asked'] as const;
export type ConsentState = (typeof CONSENT_STATES)[number];

export class ConsentChangedV1 {
  @IsUUID()
  contactId!: string;

  @IsIn(CHANNELS)
  channel!: Channel;

  /** A subscription group (e.g. `newsletter`); absent for the channel as a whole. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  group?: string;

  @IsIn(CONSENT_STATES)
  state!: ConsentState;

  /** Where the change came from, e.g. `api`, `unsubscribe_link`, `sms_stop`, `whatsapp_optout`, `import`. */
  @IsString()
  @MaxLength(100)
  source!: string;

  @IsISO8601()
  changedAt!: string;
}

export const CONSENT_CHANGED_V1 = defineEvent({
  subject: eventSubject('crm', 'consent', 'changed', 1),
  payload: ConsentChangedV1,
  description: 'A contact subscribed to or unsubscribed from a channel or subscription group.',
  partitionKey: 'contactId',
});
