import { randomBytes } from 'node:crypto';
import { connect } from 'nats';

export const TEST_NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/**
 * A bus namespace of its own for one test file: its subjects and streams cannot meet another
 * file's. `cleanup` deletes the namespace's streams (and so their consumers) afterwards.
 */
export function testBusNamespace(label = 't'): { namespace: string; cleanup: () => Promise<void> } {
  const namespace = `${label.replace(/[^A-Za-z0-9]/g, '')}${randomBytes(4).toString('hex')}`;
  return { namespace, cleanup: () => deleteNamespaceStreams(namespace) };
}

export async function deleteNamespaceStreams(namespace: string): Promise<void> {
  const nc = await connect({ servers: TEST_NATS_URL.split(',') });
  try {
    const jsm = await nc.jetstreamManager();
    for await (const stream of jsm.streams.list()) {
      if (stream.config.name.startsWith(`${namespace}_`)) await jsm.streams.delete(stream.config.name);
    }
  } finally {
    await nc.close();
  }
}
