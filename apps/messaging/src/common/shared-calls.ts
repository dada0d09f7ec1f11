/**
 * Concurrent calls with the same key share one call: the sends of a bus batch ask for the same
 * template and providers at the same moment, and one read answers them all. Nothing is kept once
 * the call settles, so a later call always reads afresh (no cache to go stale).
 */
export class SharedCalls<T> {
  private readonly running = new Map<string, Promise<T>>();

  run(key: string, call: () => Promise<T>): Promise<T> {
    const running = this.running.get(key);
    if (running) return running;
    const started = call().finally(() => this.running.delete(key));
    this.running.set(key, started);
    return started;
  }
}
