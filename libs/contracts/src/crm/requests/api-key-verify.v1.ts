import { IsArray, IsBoolean, IsOptional, IsString, IsUUID, Length } from 'class-validator';
import { defineRequest, requestSubject } from '../../define';

export class VerifyApiKeyRequestV1 {
  /** sha256 hex of the presented key: the key itself never travels on the bus. */
  @IsString()
  @Length(64, 64)
  keyHash!: string;
}

export class VerifyApiKeyResponseV1 {
  /** False when the key is unknown or revoked; the other fields are then absent. */
  @IsBoolean()
  valid!: boolean;

  @IsOptional()
  @IsUUID()
  keyId?: string;

  @IsOptional()
  @IsUUID()
  workspaceId?: string;

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  scopes?: string[];
}

export const VERIFY_API_KEY_V1 = defineRequest({
  subject: requestSubject('crm', 'apikey', 'verify', 1),
  request: VerifyApiKeyRequestV1,
  response: VerifyApiKeyResponseV1,
  description: 'Resolves a management API key (by hash) to its workspace and scopes. Answered by the CRM, which owns workspaces and keys.',
});
