import { Inject, Injectable, Logger } from '@nestjs/common';
import { EVENT_BUS, RequestError, type JetStreamBus } from '@tessera/bus';
import { LOOKUP_TEMPLATES_V1, TEMPLATE_LOOKUP_MAX } from '@tessera/contracts';
import type { DefinitionError } from '../engine/validate';

/** A template a journey or campaign sends, and the field that names it. */
export interface TemplateUse {
  path: string;
  templateId: string;
  channel: string;
}

/** How long a publish waits for messaging before going ahead unchecked. */
const LOOKUP_TIMEOUT_MS = 2000;

/**
 * Asks messaging, which owns templates, whether the templates a journey or campaign sends exist,
 * are published and are for the channel of the step. Messaging not answering does not block a
 * publish: the check becomes a warning, and a send to a missing template later pauses the
 * journey (messaging.template.missing.v1).
 */
@Injectable()
export class TemplateCheck {
  private readonly log = new Logger(TemplateCheck.name);

  constructor(@Inject(EVENT_BUS) private readonly bus: JetStreamBus) {}

  async check(workspaceId: string, uses: TemplateUse[]): Promise<{ errors: DefinitionError[]; warnings: string[] }> {
    const ids = [...new Set(uses.map((u) => u.templateId))];
    if (!ids.length) return { errors: [], warnings: [] };
    const known = new Map<string, { exists: boolean; publishedVersion?: number; channel?: string }>();
    try {
      for (let i = 0; i < ids.length; i += TEMPLATE_LOOKUP_MAX) {
        const answer = await this.bus.request(LOOKUP_TEMPLATES_V1.subject, { templateIds: ids.slice(i, i + TEMPLATE_LOOKUP_MAX) }, { workspaceId, timeoutMs: LOOKUP_TIMEOUT_MS });
        for (const t of answer.templates) known.set(t.templateId, t);
      }
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      // 'unavailable': no answer in time (messaging down or overloaded); any other code came back from messaging.
      const why = error.code === 'unavailable' ? 'messaging did not answer' : `messaging answered ${error.code}: ${error.message}`;
      this.log.warn(`templates not checked: ${why}`);
      return { errors: [], warnings: [`templates not checked: ${why}`] };
    }
    const errors: DefinitionError[] = [];
    for (const use of uses) {
      const t = known.get(use.templateId);
      const problem = !t?.exists
        ? `unknown template ${use.templateId}`
        : !t.publishedVersion
          ? `template ${use.templateId} has no published version`
          : t.channel !== use.channel
            ? `template ${use.templateId} is for ${t.channel}, not ${use.channel}`
            : undefined;
      if (problem) errors.push({ path: use.path, messages: [problem] });
    }
    return { errors, warnings: [] };
  }
}
