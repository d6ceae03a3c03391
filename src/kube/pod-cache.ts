/**
 * @module kube/pod-cache
 * A watched cache of every pod: LIST `/api/v1/pods` in pages, then WATCH from the list's
 * resourceVersion (kube/reflector.ts), keeping per pod only what the adapter answers with.
 * `pods/*` custom-metrics requests and metrics.k8s.io pod requests read it instead of listing pods
 * from the API server on every request, as prometheus-adapter and metrics-server read their
 * informers. The store it keeps them in is kube/pod-store.ts. Until the first list has completed,
 * or while the watch has been broken for longer than a staleness bound, {@link PodCache.list}
 * answers `undefined` and callers list from the API server directly, so an answer is never older
 * than that bound.
 */
import type { KubeClient } from "./client.ts";
import { PodStore, cachedPod, type CachedPod, type PodFilter, type PodJson } from "./pod-store.ts";
import { Reflector, type ReflectorEvent, type ReflectorOptions } from "./reflector.ts";

export type PodCacheEvent = ReflectorEvent;

export interface PodCacheOptions extends Omit<
  ReflectorOptions<CachedPod>,
  "kube" | "path" | "name" | "what" | "cut" | "store"
> {
  readonly kube: KubeClient;
  /** Counts lookups answered from the cache and those left to a direct list (not synced, stale). */
  readonly onLookup?: (source: "cache" | "fallback") => void;
}

export class PodCache {
  readonly store = new PodStore();
  readonly #o: PodCacheOptions;
  readonly #reflector: Reflector<CachedPod>;

  constructor(o: PodCacheOptions) {
    this.#o = o;
    this.#reflector = new Reflector({
      ...o,
      path: "/api/v1/pods",
      name: "pod cache",
      what: "pods",
      cut: (i) => cachedPod(i as PodJson),
      store: this.store,
    });
  }

  get synced(): boolean {
    return this.#reflector.synced;
  }

  /** Synced, and the watch healthy or broken for less than the staleness bound. */
  get usable(): boolean {
    return this.#reflector.usable;
  }

  start(): void {
    this.#reflector.start();
  }

  /** Stops the loop and closes the watch; resolves once the loop has exited. */
  stop(): Promise<void> {
    return this.#reflector.stop();
  }

  /** Resolves when the first list has completed (or rejects after `timeoutMs`). */
  waitForSync(timeoutMs: number): Promise<void> {
    return this.#reflector.waitForSync(timeoutMs);
  }

  /**
   * Pods that the label selector (upstream grammar; throws LabelSelectorError) and filter pick, in
   * API server order; undefined when the cache must not be used (not synced or stale).
   */
  list(namespace: string, labelSelector: string, filter: PodFilter = {}): CachedPod[] | undefined {
    if (!this.#use()) return undefined;
    return this.store.select(namespace, labelSelector, filter);
  }

  /** One pod: `null` if the (usable) cache has no such pod, undefined when it must not be used. */
  get(namespace: string, name: string): CachedPod | null | undefined {
    if (!this.#use()) return undefined;
    return this.store.get(namespace, name) ?? null;
  }

  #use(): boolean {
    const ok = this.usable;
    this.#o.onLookup?.(ok ? "cache" : "fallback");
    return ok;
  }
}
