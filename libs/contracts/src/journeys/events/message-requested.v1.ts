import { IsIn, IsObject, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';
import { CHANNELS, type Channel } from '../../crm/events/consent-changed.v1';

export class MessageRequestedV1 {
  /** Idempotency key (derived from journey instance and step): messaging sends at most once per key. */
  @IsString()
  @MaxLength(255)
  requestId!: string;

  @IsUUID()
  contactId!: string;

  @IsIn([...CHANNELS, 'webhook'])
  channel!: Channel | 'webhook';

  @IsString()
  @MaxLength(255)
  templateId!: string;

  /** Values the template can use besides the contact's data (`event`, `journey`, trigger payload). */
  @IsObject()
  data!: Record<string, unknown>;

  /** Per-send overrides of template parts (e.g. subject) or provider. */
  @IsOptional()
  @IsObject()
  overrides?: Record<string, unknown>;

  @IsOptional() @IsString() @MaxLength(255) journeyId?: string;
  @IsOptional() @IsString() @MaxLength(255) journeyVersion?: string;
  @IsOptional() @IsString() @MaxLength(255) instanceId?: string;
  @IsOptional() @IsString() @MaxLength(255) stepId?: string;
  @IsOptional() @IsString() @MaxLength(255) campaignId?: string;
}

export const MESSAGE_REQUESTED_V1 = defineEvent({
  subject: eventSubject('journeys', 'message', 'requested', 1),
  payload: MessageRequestedV1,
  description: 'A journey step or campaign asks messaging to send a template to a contact on a channel.',
  partitionKey: 'contactId',
  personalData: ['data'],
});
