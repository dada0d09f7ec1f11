import { Injectable } from '@nestjs/common';
import { OnRequest } from '@tessera/bus';
import { VERIFY_API_KEY_V1, type VerifyApiKeyRequestV1, type VerifyApiKeyResponseV1 } from '@tessera/contracts';
import { WorkspacesService } from './workspaces.service';

@Injectable()
export class WorkspacesHandlers {
  constructor(private readonly workspaces: WorkspacesService) {}

  @OnRequest(VERIFY_API_KEY_V1.subject)
  async verifyKey(request: VerifyApiKeyRequestV1): Promise<VerifyApiKeyResponseV1> {
    const auth = await this.workspaces.verify(request.keyHash);
    return auth ? { valid: true, ...auth } : { valid: false };
  }
}
