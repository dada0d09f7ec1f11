import { IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

export const MESSAGE_CHANNELS = ['email', 'sms', 'whatsapp', 'push', 'webhook'] as const;
/** `suppressed`: refused before any send (unsubscribed, suppression list, region, service window). */
export const MESSAGE_STATUSES = ['queued', 'sent', 'delivered', 'read', 'failed', 'bounced', 'complained', 'opened', 'clicked', 'unsubscribed', 'suppressed'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export class MessageStatusChangedV1 {
  @IsUUID()
  messageId!: string;

  @IsUUID()
  contactId!: string;

  @IsIn(MESSAGE_CHANNELS)
  channel!: (typeof MESSAGE_CHANNELS)[number];

  @IsString()
  @MaxLength(255)
  templateId!: string;

  @IsOptional()
  @IsInt()
  templateVersion?: number;

  @IsOptional() @IsString() @MaxLength(255) journeyId?: string;
  @IsOptional() @IsString() @MaxLength(255) campaignId?: string;

  @IsIn(MESSAGE_STATUSES)
  status!: MessageStatus;

  /** Why it failed / was suppressed (the vendor's reason for vendor errors); the clicked URL for clicks. */
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  detail?: string;

  @IsISO8601()
  occurredAt!: string;
}

export const MESSAGE_STATUS_CHANGED_V1 = defineEvent({
  subject: eventSubject('messaging', 'message', 'status_changed', 1),
  payload: MessageStatusChangedV1,
  description: 'A message changed status (queued, sent, delivered, read, failed, bounced, complained, opened, clicked, unsubscribed, suppressed): the feed analytics uses.',
  partitionKey: 'messageId',
});
