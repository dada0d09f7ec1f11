import { IsString, IsUUID, Length } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

export class ApiKeyRevokedV1 {
  @IsUUID()
  keyId!: string;

  /** sha256 hex of the key, so verifiers can drop it from their caches without ever seeing the key. */
  @IsString()
  @Length(64, 64)
  keyHash!: string;
}

export const API_KEY_REVOKED_V1 = defineEvent({
  subject: eventSubject('crm', 'apikey', 'revoked', 1),
  payload: ApiKeyRevokedV1,
  description: 'A management API key was revoked; every service must stop accepting it at once.',
});
