/**
 * @module prometheus/coalesce
 * Shares one in-flight promise between identical calls. An HPA controller, `kubectl get --raw`
 * and a dashboard asking for the same metric at the same moment then cost Prometheus one query.
 * Only calls that overlap share: an entry leaves the map when its promise settles, so nothing is
 * cached and errors are not replayed to later callers.
 */

export class InFlight<V> {
  readonly #pending = new Map<string, Promise<V>>();

  /** Runs `start` unless a call with the same key is already running, and joins it if so. */
  run(key: string, start: () => Promise<V>): Promise<V> {
    const running = this.#pending.get(key);
    if (running) return running;
    const p = start().finally(() => {
      this.#pending.delete(key);
    });
    this.#pending.set(key, p);
    return p;
  }

  get size(): number {
    return this.#pending.size;
  }
}
