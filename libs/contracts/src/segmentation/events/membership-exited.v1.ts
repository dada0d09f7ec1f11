import { IsISO8601, IsInt, IsUUID, Min } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

export class MembershipExitedV1 {
  @IsUUID()
  segmentId!: string;

  @IsUUID()
  contactId!: string;

  /** The instant the contact left (evaluation time). */
  @IsISO8601()
  at!: string;

  /** Version of the segment definition that decided the exit. */
  @IsInt()
  @Min(1)
  segmentVersion!: number;
}

export const MEMBERSHIP_EXITED_V1 = defineEvent({
  subject: eventSubject('segmentation', 'membership', 'exited', 1),
  payload: MembershipExitedV1,
  description: 'A contact left a segment: its definition no longer matches, the segment was deleted, or the contact was merged away or erased.',
  partitionKey: 'contactId',
});
