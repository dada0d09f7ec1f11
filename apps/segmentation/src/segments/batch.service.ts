import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@tessera/service-kit';
import { CLOCK, type Clock } from '../clock';
import { withTransaction } from '@tessera/db';
import { referencedSegments } from '../definition/definition-deps';
import { applyMembership, lockKey } from '../evaluation/membership.repository';
import { loadSegments } from '../evaluation/segment-catalog';
import { SegmentsRepository } from './segments.repository';

/** 16 contact-id ranges (by the first hex digit): one transaction and one progress step each. */
export const CHUNKS: [string, string | null][] = Array.from({ length: 16 }, (_, i) => [
  `${i.toString(16)}0000000-0000-0000-0000-000000000000`,
  i === 15 ? null : `${(i + 1).toString(16)}0000000-0000-0000-0000-000000000000`,
]);

/**
 * Batch computation of a segment over existing data: the compiled query, chunked by contact id,
 * diffed against stored membership (entries/exits through the outbox). Each chunk holds the
 * segment's exclusive lock, so real-time diffs of that segment wait for it instead of interleaving.
 * Runs are serialised per segment; a run that finds a newer version stops and lets the next run win.
 */
@Injectable()
export class BatchService implements OnApplicationBootstrap {
  private readonly logger = new Logger(BatchService.name);
  private readonly queue = new Map<string, Promise<void>>();

  constructor(@Inject(PG_POOL) private readonly pool: Pool, private readonly segments: SegmentsRepository, @Inject(CLOCK) private readonly clock: Clock) {}

  /** Resumes runs a stopped replica left unfinished. */
  onApplicationBootstrap(): void {
    void this.pool
      .query<{ id: string; workspace_id: string }>(`SELECT id, workspace_id FROM segmentation.segment WHERE status = 'computing' AND deleted_at IS NULL`)
      .then(({ rows }) => rows.forEach((r) => void this.schedule(r.workspace_id, r.id)))
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not resume batch runs'));
  }

  /** Queues a recomputation; resolves when it finished (tests and benchmarks await it, the API does not). */
  schedule(workspaceId: string, segmentId: string): Promise<void> {
    const previous = this.queue.get(segmentId) ?? Promise.resolve();
    const next = previous.then(() => this.run(workspaceId, segmentId)).catch((error: unknown) => {
      this.logger.error({ err: error, segmentId }, 'batch computation failed');
      return this.segments.setProgress(segmentId, { status: 'failed', error: error instanceof Error ? error.message : String(error) });
    });
    this.queue.set(segmentId, next);
    void next.finally(() => this.queue.get(segmentId) === next && this.queue.delete(segmentId));
    return next;
  }

  async run(workspaceId: string, segmentId: string, cascade = true): Promise<void> {
    const start = await this.segments.find(workspaceId, segmentId);
    if (!start) return;
    for (let i = 0; i < CHUNKS.length; i++) {
      const stale = await withTransaction(this.pool, async (client) => {
        await client.query(`SELECT pg_advisory_xact_lock(${lockKey('segment', '$1::text')})`, [segmentId]);
        const { segments, resolve } = await loadSegments(client, workspaceId);
        const segment = segments.find((s) => s.id === segmentId);
        if (!segment || segment.version !== start.version) return true;
        await applyMembership(client, segment, { range: CHUNKS[i]! }, this.clock.now(), resolve);
        return false;
      });
      if (stale) return;
      await this.segments.setProgress(segmentId, { progress: (i + 1) / CHUNKS.length });
    }
    const size = await this.segments.count(workspaceId, segmentId);
    await this.segments.setProgress(segmentId, { status: 'ready', progress: 1, memberCount: size, error: null });
    await this.segments.recordSize(segmentId, this.clock.now(), size);
    if (!cascade) return;
    // Segments that inline this one changed too.
    for (const other of await this.segments.list(workspaceId))
      if (other.id !== segmentId && referencedSegments(other.definition).includes(segmentId)) void this.schedule(workspaceId, other.id);
  }
}
