import { IsISO8601, IsInt, IsObject, IsOptional, IsUUID, Min } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

export class MembershipEnteredV1 {
  @IsUUID()
  segmentId!: string;

  @IsUUID()
  contactId!: string;

  /** The instant the contact entered (evaluation time). */
  @IsISO8601()
  at!: string;

  /** Version of the segment definition that decided the entry. */
  @IsInt()
  @Min(1)
  segmentVersion!: number;

  /** Why: which top-level branch of the definition matched, e.g. `{ "branch": 1 }` or `{ "branch": "all" }`. */
  @IsOptional()
  @IsObject()
  reason?: Record<string, unknown>;
}

export const MEMBERSHIP_ENTERED_V1 = defineEvent({
  subject: eventSubject('segmentation', 'membership', 'entered', 1),
  payload: MembershipEnteredV1,
  description: 'A contact entered a segment (real-time, time-based or batch evaluation). Journeys trigger on it.',
  partitionKey: 'contactId',
});
