import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { EVENT_BUS, type JetStreamBus } from '@tessera/bus';
import { INGESTION_EVENTS } from '@tessera/contracts';
import { ArchiveWriter } from '../tracking/archive-writer.service';
import { IngestRepository } from '../tracking/ingest.repository';
import type { ArchivedEventView, ReplayResultView } from './archive.dto';

const PAGE = 1000;
/** A replay runs inside one request; longer ranges go in several calls. */
const MAX_REPLAY_DAYS = 31;

function range(from: string | undefined, to: string | undefined): { from: Date; to: Date } {
  const end = to ? new Date(to) : new Date();
  const start = from ? new Date(from) : new Date(end.getTime() - 86_400_000);
  if (start >= end) throw new BadRequestException('from must be before to');
  return { from: start, to: end };
}

@Injectable()
export class ArchiveService {
  constructor(
    private readonly repository: IngestRepository,
    private readonly writer: ArchiveWriter,
    @Inject(EVENT_BUS) private readonly bus: JetStreamBus,
  ) {}

  async find(workspaceId: string, q: { userId?: string; anonymousId?: string; from?: string; to?: string; limit?: number }): Promise<ArchivedEventView[]> {
    // The archive is written just after the answer (ArchiveWriter): let it catch up, so reads see what was accepted.
    await this.writer.caughtUp();
    const rows = await this.repository.findArchived(workspaceId, { userId: q.userId, anonymousId: q.anonymousId, ...range(q.from, q.to), limit: q.limit ?? 100 });
    return rows.map((r) => ({ id: r.id, receivedAt: r.receivedAt.toISOString(), subject: r.subject, envelope: r.envelope as unknown as Record<string, unknown> }));
  }

  /**
   * Publishes a workspace's archived events received in [from, to) again, page by page in
   * (receivedAt, id) order, with their original ids: consumers that have them drop them.
   */
  async replay(workspaceId: string, from: string, to: string): Promise<ReplayResultView> {
    const window = range(from, to);
    if (window.to.getTime() - window.from.getTime() > MAX_REPLAY_DAYS * 86_400_000) throw new BadRequestException(`replay at most ${MAX_REPLAY_DAYS} days per call`);
    await this.writer.caughtUp();
    let after: { receivedAt: Date; id: string } | undefined;
    let republished = 0;
    let skipped = 0;
    for (;;) {
      const page = await this.repository.archivePage(workspaceId, window.from, window.to, after, PAGE);
      if (!page.length) break;
      const publishable = page.filter((r) => r.subject in INGESTION_EVENTS).map((r) => r.envelope);
      skipped += page.length - publishable.length;
      await this.bus.publishEnvelopes(publishable);
      republished += publishable.length;
      const last = page[page.length - 1]!;
      after = { receivedAt: last.receivedAt, id: last.id };
      if (page.length < PAGE) break;
    }
    return { republished, skipped };
  }
}
