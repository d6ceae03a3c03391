/**
 * @module kube/pod-cache
 * A watched cache of every pod (an informer of our own): LIST `/api/v1/pods` in chunks, then WATCH
 * from the list's resourceVersion, keeping per pod only what the adapter answers with. `pods/*`
 * custom-metrics requests and metrics.k8s.io pod requests read it instead of listing pods from the
 * API server on every request, as prometheus-adapter and metrics-server read their informers. The
 * store it keeps them in is kube/pod-store.ts.
 *
 * The loop mirrors client-go's reflector (tools/cache/reflector.go): chunked list, watch with
 * bookmarks and a server-side timeout, re-watch from the last seen resourceVersion when the watch
 * ends, relist on 410 Gone ("too old resource version"), capped exponential backoff with jitter on
 * connection errors. Until the first list has completed, or while the watch has been broken for
 * longer than a staleness bound, {@link PodCache.list} answers `undefined` and callers list from
 * the API server directly, so an answer is never older than that bound.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../observability/logger.ts";
import { KubeApiError, type KubeClient } from "./client.ts";
import {
  PodStore,
  WatchGoneError,
  cachedPod,
  type CachedPod,
  type PodFilter,
  type PodJson,
  type WatchEvent,
} from "./pod-store.ts";

/** Capped exponential backoff with jitter (half to full of the step), as wait.Backoff with Jitter. */
export function backoffMs(
  attempt: number,
  baseMs = 500,
  capMs = 30_000,
  random = Math.random,
): number {
  const step = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(step * (0.5 + random() * 0.5));
}

export type PodCacheEvent = "list" | "relist" | "watch" | "watch-error";

export interface PodCacheOptions {
  readonly kube: KubeClient;
  readonly log: Logger;
  /** Items per list chunk (`limit`). */
  readonly pageSize?: number;
  /** Server-side watch timeout; the watch is then resumed from the last resourceVersion. */
  readonly watchTimeoutSeconds?: number;
  /** How long a broken watch may leave the cache in use before callers list directly. */
  readonly staleAfterMs?: number;
  /** Counts list and watch (re)starts, for the adapter's metrics. */
  readonly onEvent?: (e: PodCacheEvent) => void;
  /** Counts lookups answered from the cache and those left to a direct list (not synced, stale). */
  readonly onLookup?: (source: "cache" | "fallback") => void;
  readonly now?: () => number;
}

export class PodCache {
  readonly store = new PodStore();
  readonly #o: PodCacheOptions;
  readonly #abort = new AbortController();
  #synced = false;
  /** When the watch last broke and has not been re-established since; undefined while healthy. */
  #brokenSince: number | undefined;
  #running: Promise<void> | undefined;

  constructor(o: PodCacheOptions) {
    this.#o = o;
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** Synced, and the watch healthy or broken for less than the staleness bound. */
  get usable(): boolean {
    if (!this.#synced) return false;
    if (this.#brokenSince === undefined) return true;
    const now = (this.#o.now ?? Date.now)();
    return now - this.#brokenSince < (this.#o.staleAfterMs ?? 30_000);
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** Stops the loop and closes the watch; resolves once the loop has exited. */
  async stop(): Promise<void> {
    this.#abort.abort();
    // No longer watched: lookups go to the API server from now on.
    this.#synced = false;
    await this.#running;
  }

  /** Resolves when the first list has completed (or rejects after `timeoutMs`). */
  async waitForSync(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#synced) {
      if (Date.now() > deadline) throw new Error("pod cache did not sync");
      await sleep(20);
    }
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

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let needList = true;
    let attempt = 0;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#list(signal);
          needList = false;
          attempt = 0;
        }
        this.#o.onEvent?.("watch");
        await this.#watch(signal);
        attempt = 0;
      } catch (e) {
        if (this.#abort.signal.aborted) break; // aborted meanwhile (stop())
        if (e instanceof WatchGoneError || (e instanceof KubeApiError && e.status === 410)) {
          this.#o.log.info({ err: String(e) }, "pod cache: resource version gone, relisting");
          this.#brokenSince ??= (this.#o.now ?? Date.now)();
          needList = true;
          continue;
        }
        this.#brokenSince ??= (this.#o.now ?? Date.now)();
        this.#o.onEvent?.("watch-error");
        const delay = backoffMs(attempt++);
        this.#o.log.warn({ err: String(e), retryInMs: delay }, "pod cache: list/watch failed");
        try {
          await sleep(delay, undefined, { signal });
        } catch {
          break;
        }
      }
    }
  }

  async #list(signal: AbortSignal): Promise<void> {
    this.#o.onEvent?.(this.#synced ? "relist" : "list");
    // Each page is cut down as it arrives: whole Pod objects (spec, status, managed fields) of
    // every page until the last would be several KB a pod at the peak of every relist.
    const pods: CachedPod[] = [];
    let cont = "";
    let rv = "";
    const limit = this.#o.pageSize ?? 500;
    do {
      const q = new URLSearchParams({ limit: String(limit) });
      if (cont !== "") q.set("continue", cont);
      const page = await this.#o.kube.json<{
        metadata?: { resourceVersion?: string; continue?: string };
        items: PodJson[] | null;
      }>("GET", `/api/v1/pods?${q.toString()}`);
      if (signal.aborted) return;
      for (const i of page.items ?? []) pods.push(cachedPod(i));
      rv = page.metadata?.resourceVersion ?? rv;
      cont = page.metadata?.continue ?? "";
    } while (cont !== "");
    this.store.replaceCached(pods, rv);
    this.#synced = true;
    this.#brokenSince = undefined;
    this.#o.log.info({ pods: pods.length, resourceVersion: rv }, "pod cache: listed pods");
  }

  async #watch(signal: AbortSignal): Promise<void> {
    const timeout = this.#o.watchTimeoutSeconds ?? 300;
    const from = this.store.resourceVersion;
    const q = new URLSearchParams({
      watch: "1",
      resourceVersion: from,
      allowWatchBookmarks: "true",
      timeoutSeconds: String(timeout),
    });
    await this.#o.kube.stream(
      `/api/v1/pods?${q.toString()}`,
      (e) => {
        this.store.apply(e as WatchEvent);
      },
      {
        signal,
        // Beyond the server's timeout: a connection that went silent is dead.
        idleTimeoutMs: (timeout + 30) * 1000,
        onOpen: () => {
          this.#brokenSince = undefined;
        },
      },
    );
  }
}
