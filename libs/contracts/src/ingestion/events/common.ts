import { IsISO8601, IsObject, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';

/** Fields every tracking call carries once ingestion has validated and normalised it. */
export class TrackingCallBase {
  /** The sender's message id (Segment `messageId`); de-duplicated by ingestion for 24 hours. */
  @IsString()
  @MaxLength(255)
  messageId!: string;

  @IsOptional()
  @IsString()
  @MaxLength(255)
  userId?: string;

  @IsOptional()
  @IsString()
  @MaxLength(255)
  anonymousId?: string;

  /** `userId` when present, else `anonymousId`: the key for per-person ordering. */
  @IsString()
  @MaxLength(260)
  routingKey!: string;

  /** When it happened, corrected for the sender's clock skew. */
  @IsISO8601()
  timestamp!: string;

  @IsISO8601()
  receivedAt!: string;

  @IsUUID()
  sourceId!: string;

  /** Segment `context` (ip, userAgent, locale, campaign...), as sent. */
  @IsObject()
  context!: Record<string, unknown>;
}
