import { IsIn, IsISO8601, IsObject, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

export class ObjectRecordChangedV1 {
  @IsUUID()
  recordId!: string;

  /** The custom object type's name, e.g. `order`. */
  @IsString()
  @MaxLength(100)
  objectType!: string;

  @IsIn(['created', 'updated', 'deleted'])
  change!: 'created' | 'updated' | 'deleted';

  @IsOptional()
  @IsUUID()
  contactId?: string;

  /** The record's fields after the change (absent when deleted). */
  @IsOptional()
  @IsObject()
  data?: Record<string, unknown>;

  @IsISO8601()
  changedAt!: string;
}

export const OBJECT_RECORD_CHANGED_V1 = defineEvent({
  subject: eventSubject('crm', 'object_record', 'changed', 1),
  payload: ObjectRecordChangedV1,
  description: 'A custom object record (e.g. an order or a subscription) was created, updated or deleted.',
  partitionKey: 'recordId',
  personalData: ['data'],
});
