import { IsIn, IsISO8601, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';
import { MESSAGE_CHANNELS } from './message-status-changed.v1';

export class TemplateMissingV1 {
  /** The message that failed for it (its status event says `failed`, detail `unknown_template: ...`). */
  @IsUUID()
  messageId!: string;

  @IsUUID()
  contactId!: string;

  @IsIn(MESSAGE_CHANNELS)
  channel!: (typeof MESSAGE_CHANNELS)[number];

  /** The template the send named. */
  @IsString()
  @MaxLength(255)
  templateId!: string;

  /** Who asked for the send, when it was a journey or a campaign. */
  @IsOptional() @IsString() @MaxLength(255) journeyId?: string;
  @IsOptional() @IsString() @MaxLength(255) campaignId?: string;

  @IsISO8601()
  occurredAt!: string;
}

export const TEMPLATE_MISSING_V1 = defineEvent({
  subject: eventSubject('messaging', 'template', 'missing', 1),
  payload: TemplateMissingV1,
  description:
    'A send named a template with no published version (deleted, or never published), so it failed. Published besides the failed status event, so that whoever asked for the send (journeys pauses the journey) learns of it without reading every status event.',
  partitionKey: 'templateId',
});
