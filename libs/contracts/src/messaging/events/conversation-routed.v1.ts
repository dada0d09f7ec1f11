import { IsIn, IsISO8601, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

export class ConversationRoutedV1 {
  @IsUUID()
  conversationId!: string;

  @IsOptional()
  @IsUUID()
  contactId?: string;

  @IsIn(['sms', 'whatsapp'])
  channel!: 'sms' | 'whatsapp';

  /** The team / queue it was assigned to. */
  @IsString()
  @MaxLength(100)
  queue!: string;

  /** The rule that matched; absent when it fell to the default queue. */
  @IsOptional()
  @IsUUID()
  ruleId?: string;

  @IsOptional()
  @IsIn(['keyword', 'attribute', 'business_hours', 'button'])
  ruleKind?: 'keyword' | 'attribute' | 'business_hours' | 'button';

  /** The inbound message (its bus event id) that was routed. */
  @IsUUID()
  inboundMessageId!: string;

  @IsISO8601()
  routedAt!: string;
}

export const CONVERSATION_ROUTED_V1 = defineEvent({
  subject: eventSubject('messaging', 'conversation', 'routed', 1),
  payload: ConversationRoutedV1,
  description: 'An inbound SMS/WhatsApp message was attached to a conversation and the conversation assigned to a team queue.',
  partitionKey: 'conversationId',
});
