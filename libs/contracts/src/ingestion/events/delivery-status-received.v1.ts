import { IsIn, IsISO8601, IsObject, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

export const PROVIDER_STATUSES = ['sent', 'delivered', 'read', 'failed', 'bounced', 'complained', 'opened', 'clicked', 'unsubscribed'] as const;

export class DeliveryStatusReceivedV1 {
  @IsIn(['email', 'sms', 'whatsapp', 'push', 'webhook'])
  channel!: 'email' | 'sms' | 'whatsapp' | 'push' | 'webhook';

  @IsString()
  @MaxLength(50)
  provider!: string;

  /** The id the provider gave the message when messaging sent it. */
  @IsString()
  @MaxLength(255)
  providerMessageId!: string;

  @IsIn(PROVIDER_STATUSES)
  status!: (typeof PROVIDER_STATUSES)[number];

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;

  @IsISO8601()
  occurredAt!: string;

  @IsUUID()
  sourceId!: string;

  @IsObject()
  raw!: Record<string, unknown>;
}

export const DELIVERY_STATUS_RECEIVED_V1 = defineEvent({
  subject: eventSubject('ingestion', 'delivery_status', 'received', 1),
  payload: DeliveryStatusReceivedV1,
  description: 'A provider reported on a message messaging sent (delivered, read, failed...), via a verified webhook.',
  partitionKey: 'providerMessageId',
  personalData: ['raw'],
});
