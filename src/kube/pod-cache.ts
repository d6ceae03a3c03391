/**
 * @module kube/pod-cache
 * A watched cache of every pod (an informer of our own): LIST `/api/v1/pods` in chunks, then WATCH
 * from the list's resourceVersion, keeping per pod only what the adapter answers with. `pods/*`
 * custom-metrics requests and metrics.k8s.io pod requests read it instead of listing pods from the
 * API server on every request, as prometheus-adapter and metrics-server read their informers.
 *
 * The loop mirrors client-go's reflector (tools/cache/reflector.go): chunked list, watch with
 * bookmarks and a server-side timeout, re-watch from the last seen resourceVersion when the watch
 * ends, relist on 410 Gone ("too old resource version"), capped exponential backoff with jitter on
 * connection errors. Until the first list has completed, or while the watch has been broken for
 * longer than a staleness bound, {@link PodCache.list} answers `undefined` and callers list from
 * the API server directly, so an answer is never older than that bound.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { LabelSelector } from "../apimachinery/label-selector.ts";
import { parseLabelSelector } from "../apimachinery/label-selector-parser.ts";
import type { Logger } from "../observability/logger.ts";
import { KubeApiError, type KubeClient } from "./client.ts";

/** What the adapter needs of a pod. */
export interface CachedPod {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly phase: string;
  readonly nodeName: string;
}

/** The parts of a Pod's JSON that are read (from a list item or a watch event). */
export interface PodJson {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string> | null;
    readonly resourceVersion?: string;
  };
  readonly spec?: { readonly nodeName?: string };
  readonly status?: { readonly phase?: string };
}

export interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  readonly object: PodJson & {
    readonly code?: number;
    readonly reason?: string;
    readonly message?: string;
  };
}

export function cachedPod(o: PodJson): CachedPod {
  return {
    namespace: o.metadata?.namespace ?? "",
    name: o.metadata?.name ?? "",
    labels: o.metadata?.labels ?? {},
    phase: o.status?.phase ?? "",
    nodeName: o.spec?.nodeName ?? "",
  };
}

/**
 * The order of the API server's lists: etcd key order of `/registry/pods/<namespace>/<name>`, which
 * for all namespaces is not quite (namespace, name) order ("a-b/x" sorts before "a/x"). Names are
 * ASCII, where UTF-16 comparison is byte comparison.
 */
function keyCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A watch ERROR that means "relist": 410 Gone / Expired (apimachinery's IsGone / IsResourceExpired). */
export function isGoneEvent(e: WatchEvent): boolean {
  return (
    e.type === "ERROR" &&
    (e.object.code === 410 || e.object.reason === "Expired" || e.object.reason === "Gone")
  );
}

export class WatchGoneError extends Error {
  override readonly name = "WatchGoneError";
}

/** Which pods to list besides the label selector: what the callers need of field selectors. */
export interface PodFilter {
  /** `status.phase=<phase>`. */
  readonly phase?: string;
}

/** Selections kept by {@link PodStore.select}: one a distinct HPA selector, 10,000 HPAs fit. */
const MAX_SELECTIONS = 16_384;

/**
 * The pure part: pods by namespace and name, updated from a list and from watch events, listed in
 * API server order. Sorted arrays are kept per namespace and rebuilt lazily after a change, so
 * repeated reads of a quiet namespace cost no sort.
 */
export class PodStore {
  readonly #byNamespace = new Map<string, Map<string, CachedPod>>();
  readonly #sorted = new Map<string, CachedPod[]>();
  #namespaces: string[] | undefined;
  /** Bumped by every change, per namespace and in all: a selection made before is stale. */
  readonly #generation = new Map<string, number>();
  #allGeneration = 0;
  /** Recent selections by namespace, phase and selector text; an HPA asks the same every sync. */
  readonly #selections = new Map<string, { generation: number; pods: readonly CachedPod[] }>();
  resourceVersion = "";

  get size(): number {
    let n = 0;
    for (const m of this.#byNamespace.values()) n += m.size;
    return n;
  }

  /** Replaces everything with a complete list (a relist). */
  replace(items: readonly PodJson[], resourceVersion: string): void {
    this.replaceCached(items.map(cachedPod), resourceVersion);
  }

  /** {@link replace} with the pods already reduced to what is kept. */
  replaceCached(pods: readonly CachedPod[], resourceVersion: string): void {
    this.#byNamespace.clear();
    this.#sorted.clear();
    this.#namespaces = undefined;
    this.#selections.clear();
    for (const p of pods) this.#put(p);
    this.resourceVersion = resourceVersion;
  }

  /**
   * Applies one watch event. Throws WatchGoneError for a 410 ERROR (relist) and a plain Error for
   * other ERROR events (re-watch).
   */
  apply(e: WatchEvent): void {
    switch (e.type) {
      case "ADDED":
      case "MODIFIED":
        this.#put(cachedPod(e.object));
        break;
      case "DELETED":
        this.#delete(e.object.metadata?.namespace ?? "", e.object.metadata?.name ?? "");
        break;
      case "BOOKMARK":
        break;
      case "ERROR":
        if (isGoneEvent(e)) throw new WatchGoneError(e.object.message ?? "resource version gone");
        throw new Error(`watch error: ${e.object.message ?? JSON.stringify(e.object)}`);
    }
    const rv = e.object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
  }

  get(namespace: string, name: string): CachedPod | undefined {
    return this.#byNamespace.get(namespace)?.get(name);
  }

  /**
   * {@link list} with the selector as text (upstream grammar; throws LabelSelectorError), reusing
   * the answer of an identical earlier call while nothing in the namespace changed since. The
   * array is the caller's own (a copy): callers may sort or extend it.
   */
  select(namespace: string, selectorText: string, filter: PodFilter = {}): CachedPod[] {
    const key = `${namespace}\u0000${filter.phase ?? ""}\u0000${selectorText}`;
    const generation = this.#generationOf(namespace);
    const hit = this.#selections.get(key);
    if (hit?.generation === generation) return hit.pods.slice();
    const pods = this.list(namespace, parseLabelSelector(selectorText), filter);
    // Bounded: the oldest selection goes first (Map keeps insertion order).
    if (this.#selections.size >= MAX_SELECTIONS && !hit) {
      const oldest = this.#selections.keys().next();
      if (oldest.done !== true) this.#selections.delete(oldest.value);
    }
    this.#selections.set(key, { generation, pods });
    return pods.slice();
  }

  #generationOf(namespace: string): number {
    return namespace === "" ? this.#allGeneration : (this.#generation.get(namespace) ?? 0);
  }

  #changed(namespace: string): void {
    this.#allGeneration++;
    this.#generation.set(namespace, (this.#generation.get(namespace) ?? 0) + 1);
  }

  /**
   * Pods of `namespace` ("" for all) that the selector and filter pick, in API server order.
   */
  list(namespace: string, selector: LabelSelector, filter: PodFilter = {}): CachedPod[] {
    const out: CachedPod[] = [];
    const namespaces = namespace === "" ? this.#namespaceOrder() : [namespace];
    const everything = selector.isEmpty();
    for (const ns of namespaces) {
      for (const p of this.#sortedIn(ns)) {
        if (filter.phase !== undefined && p.phase !== filter.phase) continue;
        if (!everything && !selector.matches(p.labels)) continue;
        out.push(p);
      }
    }
    return out;
  }

  #put(p: CachedPod): void {
    this.#changed(p.namespace);
    let m = this.#byNamespace.get(p.namespace);
    if (!m) {
      m = new Map();
      this.#byNamespace.set(p.namespace, m);
      this.#namespaces = undefined;
    }
    // Only a new name changes the order; a changed pod is replaced in the sorted array in place.
    const sorted = this.#sorted.get(p.namespace);
    if (!m.has(p.name)) this.#sorted.delete(p.namespace);
    else if (sorted) {
      const i = this.#indexIn(sorted, p.name);
      if (i >= 0) sorted[i] = p;
    }
    m.set(p.name, p);
  }

  #delete(namespace: string, name: string): void {
    const m = this.#byNamespace.get(namespace);
    if (!m?.delete(name)) return;
    this.#changed(namespace);
    this.#sorted.delete(namespace);
    if (m.size === 0) {
      this.#byNamespace.delete(namespace);
      this.#namespaces = undefined;
    }
  }

  #indexIn(sorted: readonly CachedPod[], name: string): number {
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = keyCompare(sorted[mid]?.name ?? "", name);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  #sortedIn(namespace: string): readonly CachedPod[] {
    let s = this.#sorted.get(namespace);
    if (!s) {
      const m = this.#byNamespace.get(namespace);
      if (!m) return [];
      s = [...m.values()].sort((a, b) => keyCompare(a.name, b.name));
      this.#sorted.set(namespace, s);
    }
    return s;
  }

  #namespaceOrder(): readonly string[] {
    // Key order: the namespace is followed by "/" in the etcd key.
    this.#namespaces ??= [...this.#byNamespace.keys()].sort((a, b) => keyCompare(`${a}/`, `${b}/`));
    return this.#namespaces;
  }
}

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
