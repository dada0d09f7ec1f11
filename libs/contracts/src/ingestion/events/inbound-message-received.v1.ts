import { IsIn, IsISO8601, IsObject, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

export class InboundMessageReceivedV1 {
  @IsIn(['sms', 'whatsapp'])
  channel!: 'sms' | 'whatsapp';

  /** twilio, whatsapp_cloud, ... */
  @IsString()
  @MaxLength(50)
  provider!: string;

  /** The provider's own message id (kept as a string). */
  @IsString()
  @MaxLength(255)
  providerMessageId!: string;

  /** Sender, E.164. */
  @IsString()
  @MaxLength(32)
  from!: string;

  /** The business number it was sent to. */
  @IsString()
  @MaxLength(64)
  to!: string;

  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  text?: string;

  /** Payload or id of the button the customer pressed (interactive or quick-reply). */
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  buttonPayload?: string;

  @IsISO8601()
  receivedAt!: string;

  @IsUUID()
  sourceId!: string;

  /** The provider's payload, for anything not normalised above. */
  @IsObject()
  raw!: Record<string, unknown>;
}

export const INBOUND_MESSAGE_RECEIVED_V1 = defineEvent({
  subject: eventSubject('ingestion', 'inbound_message', 'received', 1),
  payload: InboundMessageReceivedV1,
  description: 'A customer sent an SMS or WhatsApp message (from a verified provider webhook). Messaging attaches and routes it; STOP-style keywords become consent changes.',
  partitionKey: 'from',
  personalData: ['from', 'text', 'raw'],
});
