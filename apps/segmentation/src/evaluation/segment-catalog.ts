import type { PoolClient } from 'pg';
import type { SegmentDefinition } from '../definition/definition.types';
import type { SegmentResolver } from '../definition/validate-definition';
import type { SegmentRuntime } from './membership.repository';

export interface WorkspaceSegments {
  segments: SegmentRuntime[];
  resolve: SegmentResolver;
}

/**
 * The live segments of a workspace, read in the evaluating transaction (no cache to go stale
 * across replicas: a workspace holds tens to hundreds of segments, one indexed read per batch).
 */
export async function loadSegments(client: PoolClient, workspaceId: string): Promise<WorkspaceSegments> {
  const { rows } = await client.query<{ id: string; version: number; definition: SegmentDefinition; deps: string[]; time_based: boolean }>(
    `SELECT id, version, definition, deps, time_based FROM segmentation.segment WHERE workspace_id = $1::uuid AND deleted_at IS NULL ORDER BY id`,
    [workspaceId],
  );
  const segments = rows.map((r) => ({ id: r.id, workspaceId, version: r.version, definition: r.definition, deps: r.deps, timeBased: r.time_based }));
  const byId = new Map(segments.map((s) => [s.id, s.definition]));
  return { segments, resolve: (id) => byId.get(id) };
}

/** Segments a change can affect: those whose dependency keys meet the changed keys ('*' = all). */
export function affectedSegments(all: SegmentRuntime[], keys: Set<string> | '*'): SegmentRuntime[] {
  if (keys === '*') return all;
  return all.filter((s) => s.deps.some((d) => keys.has(d)));
}
