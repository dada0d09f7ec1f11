import { DiscardPolicy, nanos, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from 'nats';
import { STREAMS } from '@tessera/contracts';
import type { BusNaming } from './naming';

/**
 * Creates or updates every stream declared in the contracts. Run by each service at start-up, so a
 * fresh NATS needs no manual set-up and a changed retention reaches the server with the next deploy.
 */
export async function ensureStreams(jsm: JetStreamManager, naming: BusNaming, replicas = 1): Promise<void> {
  for (const definition of STREAMS) {
    const config: Partial<StreamConfig> = {
      name: naming.stream(definition.name),
      subjects: definition.subjects.map((s) => naming.subject(s)),
      description: definition.description,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(definition.maxAgeDays * 24 * 3600 * 1000),
      duplicate_window: nanos(definition.duplicateWindowMinutes * 60 * 1000),
      num_replicas: replicas,
    };
    try {
      await jsm.streams.info(config.name!);
      await jsm.streams.update(config.name!, config);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        await jsm.streams.add(config);
      } catch (addError) {
        // Another replica created it between our info and add.
        if (!/already in use|exists/i.test(String(addError))) throw addError;
      }
    }
  }
}

function isNotFound(error: unknown): boolean {
  return /not found/i.test(String((error as Error)?.message ?? error));
}
