import { IsObject, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

/** A user-named event a journey step emits, so users plug their own services into journeys. */
export class CustomEventPublishedV1 {
  /** The name the journey author gave, e.g. `loyalty.points_granted`. Consumers filter on it. */
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_.:-]+$/)
  name!: string;

  /** Idempotency key derived from instance and step. */
  @IsString()
  @MaxLength(255)
  requestId!: string;

  @IsUUID()
  contactId!: string;

  @IsObject()
  properties!: Record<string, unknown>;

  @IsOptional() @IsString() @MaxLength(255) journeyId?: string;
  @IsOptional() @IsString() @MaxLength(255) instanceId?: string;
  @IsOptional() @IsString() @MaxLength(255) stepId?: string;
}

export const CUSTOM_EVENT_PUBLISHED_V1 = defineEvent({
  subject: eventSubject('journeys', 'custom_event', 'published', 1),
  payload: CustomEventPublishedV1,
  description: 'A journey "publish event" step emitted a custom, user-named event for the contact.',
  partitionKey: 'contactId',
  personalData: ['properties'],
});
