import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { SERVICE_CONFIG } from '@tessera/service-kit';
import { CLOCK, type Clock } from '../clock';
import type { SegmentationConfig } from '../config/segmentation.config';
import { compileMembership } from '../definition/compile-definition';
import { isTimeBased } from '../definition/compile-next-check';
import { definitionDeps } from '../definition/definition-deps';
import type { SegmentDefinition } from '../definition/definition.types';
import { validateDefinition, type SegmentResolver } from '../definition/validate-definition';
import { BatchService } from './batch.service';
import { SegmentsRepository, type SegmentRow } from './segments.repository';

export interface SegmentInput {
  name: string;
  description?: string;
  definition: unknown;
}

/** Segment use cases: validation (with paths), cost refusal, versioned saves, previews and the "why". */
@Injectable()
export class SegmentsService {
  constructor(
    private readonly repo: SegmentsRepository,
    private readonly batch: BatchService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(SERVICE_CONFIG) private readonly config: SegmentationConfig,
  ) {}

  private async resolver(workspaceId: string): Promise<SegmentResolver> {
    const all = await this.repo.list(workspaceId);
    const byId = new Map(all.map((s) => [s.id, s.definition]));
    return (id) => byId.get(id);
  }

  /** 400 with the path of every offending node, or 400 "too expensive" from the planner's estimate. */
  private async check(workspaceId: string, definition: unknown, selfId?: string): Promise<{ definition: SegmentDefinition; resolve: SegmentResolver }> {
    const resolve = await this.resolver(workspaceId);
    const errors = validateDefinition(definition, resolve, selfId);
    if (errors.length)
      throw new BadRequestException({
        message: 'Invalid segment definition',
        errors: errors.map((e) => ({ path: e.path ? `definition.${e.path}` : 'definition', messages: [e.message] })),
      });
    const def = definition as SegmentDefinition;
    const q = compileMembership(def, workspaceId, this.clock.now(), resolve);
    const { rows } = await this.repo.pool.query<{ 'QUERY PLAN': [{ Plan: { 'Total Cost': number } }] }>(`EXPLAIN (FORMAT JSON) ${q.sql}`, q.params);
    const cost = rows[0]!['QUERY PLAN'][0].Plan['Total Cost'];
    if (cost > this.config.SEGMENT_MAX_COST)
      throw new BadRequestException({
        message: `Segment definition too expensive: estimated cost ${Math.round(cost)} exceeds ${this.config.SEGMENT_MAX_COST}; narrow it (fewer branches, shorter windows, more selective conditions)`,
        errors: [{ path: 'definition.root', messages: ['too expensive'] }],
      });
    return { definition: def, resolve };
  }

  list(workspaceId: string): Promise<SegmentRow[]> {
    return this.repo.list(workspaceId);
  }

  async get(workspaceId: string, id: string): Promise<SegmentRow> {
    const row = await this.repo.find(workspaceId, id);
    if (!row) throw new NotFoundException('Segment not found');
    return row;
  }

  async create(workspaceId: string, input: SegmentInput): Promise<SegmentRow> {
    const id = uuidv7();
    const { definition, resolve } = await this.check(workspaceId, input.definition, id);
    const row = await this.repo.create({ id, workspaceId, name: input.name, description: input.description ?? null, definition, deps: definitionDeps(definition, resolve), timeBased: isTimeBased(definition, resolve) });
    void this.batch.schedule(workspaceId, id);
    return row;
  }

  async update(workspaceId: string, id: string, input: SegmentInput): Promise<SegmentRow> {
    const current = await this.get(workspaceId, id);
    const { definition, resolve } = await this.check(workspaceId, input.definition, id);
    const newVersion = JSON.stringify(definition) !== JSON.stringify(current.definition);
    const row = await this.repo.update(workspaceId, id, { name: input.name, description: input.description ?? null, definition, deps: definitionDeps(definition, resolve), timeBased: isTimeBased(definition, resolve), newVersion });
    if (!row) throw new NotFoundException('Segment not found');
    if (newVersion) void this.batch.schedule(workspaceId, id);
    return row;
  }

  async remove(workspaceId: string, id: string): Promise<void> {
    const all = await this.repo.list(workspaceId);
    const users = all.filter((s) => s.id !== id && JSON.stringify(s.definition).includes(`"segmentId":"${id}"`));
    if (users.length) throw new BadRequestException({ message: `Segment is used by ${users.map((s) => s.name).join(', ')}`, errors: [{ path: 'id', messages: ['referenced by other segments'] }] });
    if (!(await this.repo.delete(workspaceId, id, this.clock.now()))) throw new NotFoundException('Segment not found');
  }

  /** Count and a sample of an unsaved definition, read-only and under a statement timeout. */
  async preview(workspaceId: string, definition: unknown, sampleSize: number): Promise<{ count: number; sample: { contactId: string; reason: Record<string, unknown> }[]; tookMs: number }> {
    const started = Date.now();
    const { definition: def, resolve } = await this.check(workspaceId, definition);
    const q = compileMembership(def, workspaceId, this.clock.now(), resolve);
    return this.repo.withClient(async (client) => {
      await client.query(`SET TRANSACTION READ ONLY`);
      await client.query(`SET LOCAL statement_timeout = ${Number(this.config.PREVIEW_TIMEOUT_MS)}`);
      const { rows } = await client.query<{ contact_id: string; branch: number | null; total: string }>(
        `SELECT contact_id, branch, count(*) OVER () AS total FROM (${q.sql}) s LIMIT ${Number(sampleSize)}`,
        q.params,
      );
      let count = Number(rows[0]?.total ?? 0);
      // count(*) OVER () under LIMIT still counts every row; an empty sample means none matched.
      if (!rows.length) count = 0;
      return { count, sample: rows.map((r) => ({ contactId: r.contact_id, reason: { branch: r.branch ?? 'all' } })), tookMs: Date.now() - started };
    });
  }

  /** The contact's segments with when they entered and why: the top-level branch that matched, with its definition. */
  async contactSegments(workspaceId: string, contactId: string): Promise<unknown[]> {
    const [memberships, segments] = await Promise.all([this.repo.contactSegments(workspaceId, contactId), this.repo.list(workspaceId)]);
    const defs = new Map(segments.map((s) => [s.id, s]));
    return memberships.map((m) => {
      const seg = defs.get(m.segmentId);
      const branch = (m.reason as { branch?: number | 'all' }).branch;
      const root = seg?.definition.root;
      const matched = typeof branch === 'number' && root?.type === 'or' ? root.children[branch] : root;
      return { segmentId: m.segmentId, segmentName: m.segmentName, enteredAt: m.enteredAt, segmentVersion: m.segmentVersion, reason: { branch: branch ?? 'all', matched } };
    });
  }
}
