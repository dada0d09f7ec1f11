import { Injectable } from '@nestjs/common';
import { OnRequest, RequestError } from '@tessera/bus';
import { LOOKUP_TEMPLATES_V1, type LookupTemplatesRequestV1, type LookupTemplatesResponseV1 } from '@tessera/contracts';
import { TemplatesService } from './templates.service';

/** Answers other services' questions about templates (journeys checks a journey's before publishing it). */
@Injectable()
export class TemplatesHandlers {
  constructor(private readonly templates: TemplatesService) {}

  @OnRequest(LOOKUP_TEMPLATES_V1.subject)
  async lookup(request: LookupTemplatesRequestV1, context: { workspaceId?: string }): Promise<LookupTemplatesResponseV1> {
    if (!context.workspaceId) throw new RequestError('invalid_request', 'the workspace header is required');
    return { templates: await this.templates.lookup(context.workspaceId, request.templateIds) };
  }
}
