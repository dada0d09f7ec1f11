import { Injectable } from '@nestjs/common';
import type { JourneyDefinition, FrequencyCap, QuietHours } from '../engine/definition';
import { JourneysRepository } from '../journeys/journeys.repository';

export interface ActiveJourney {
  id: string;
  version: number;
  name: string;
  definition: JourneyDefinition;
}

export interface WorkspaceRules {
  timezone: string;
  quietHours: QuietHours | null;
  frequencyCaps: FrequencyCap[];
}

const ACTIVE_TTL_MS = 1000;

/**
 * Caches what every event needs: published versions (immutable, cached for good), the journeys
 * taking entries per workspace and the workspace's rules (short TTLs; a replica sees a publish
 * or pause from another replica within a second).
 */
@Injectable()
export class JourneyCatalog {
  private readonly versions = new Map<string, Promise<JourneyDefinition | null>>();
  private readonly active = new Map<string, { at: number; value: Promise<ActiveJourney[]> }>();
  private readonly rules = new Map<string, { at: number; value: Promise<WorkspaceRules> }>();

  constructor(private readonly repo: JourneysRepository) {}

  definition(journeyId: string, version: number): Promise<JourneyDefinition | null> {
    const key = `${journeyId}:${version}`;
    let hit = this.versions.get(key);
    if (!hit) {
      hit = this.repo.version(journeyId, version).then((v) => (v ? (v.definition as unknown as JourneyDefinition) : null));
      hit.catch(() => this.versions.delete(key));
      this.versions.set(key, hit);
    }
    return hit;
  }

  activeJourneys(workspaceId: string): Promise<ActiveJourney[]> {
    const hit = this.active.get(workspaceId);
    if (hit && Date.now() - hit.at < ACTIVE_TTL_MS) return hit.value;
    const value = this.repo.activeJourneys(workspaceId).then((list) => list.map((j) => ({ ...j, definition: j.definition as JourneyDefinition })));
    value.catch(() => this.active.delete(workspaceId));
    this.active.set(workspaceId, { at: Date.now(), value });
    return value;
  }

  workspaceRules(workspaceId: string): Promise<WorkspaceRules> {
    const hit = this.rules.get(workspaceId);
    if (hit && Date.now() - hit.at < ACTIVE_TTL_MS) return hit.value;
    const value = this.repo.settings(workspaceId).then((s) => ({ timezone: s?.timezone ?? 'UTC', quietHours: (s?.quietHours as QuietHours | null) ?? null, frequencyCaps: (s?.frequencyCaps as unknown as FrequencyCap[]) ?? [] }));
    value.catch(() => this.rules.delete(workspaceId));
    this.rules.set(workspaceId, { at: Date.now(), value });
    return value;
  }

  /** Called after this replica changes a journey or the settings. */
  invalidate(workspaceId: string): void {
    this.active.delete(workspaceId);
    this.rules.delete(workspaceId);
  }
}
