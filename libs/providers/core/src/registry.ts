import type { ProviderChannel } from './ports';
import type { ProviderDefinition } from './provider';

/** The installed plug-ins by id. Fails at construction (start-up) on a duplicate id. */
export class ProviderRegistry {
  private readonly byId = new Map<string, ProviderDefinition>();

  constructor(definitions: readonly ProviderDefinition[]) {
    for (const def of definitions) {
      if (!/^[a-z0-9][a-z0-9_-]*$/.test(def.id)) throw new Error(`Provider id "${def.id}" must be lower-case letters, digits, _ or -`);
      if (this.byId.has(def.id)) throw new Error(`Duplicate provider id "${def.id}": two plug-ins claim it`);
      this.byId.set(def.id, def);
    }
  }

  get(id: string): ProviderDefinition | undefined {
    return this.byId.get(id);
  }

  list(channel?: ProviderChannel): ProviderDefinition[] {
    return [...this.byId.values()].filter((d) => !channel || d.channel === channel);
  }
}
