/**
 * @module kube/reflector
 * One list/watch loop (an informer of our own) for any collection the adapter keeps watched: the
 * pod cache (kube/pod-cache.ts) and the kubelet source's nodes. It mirrors client-go's reflector
 * (tools/cache/reflector.go): a list in pages, each item cut down to what is kept as it arrives,
 * then a watch from the list's resourceVersion with bookmarks and a server-side timeout, resumed
 * from the last seen resourceVersion when it ends; a relist on 410 Gone; capped exponential
 * backoff with jitter on other failures. The store it feeds decides what an event changes.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../observability/logger.ts";
import { KubeApiError, type KubeClient, type KubeJson } from "./client.ts";

/** An object as a watch event or a list item carries it: what every store reads. */
export interface ObjectJson {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
  };
}

export interface WatchEvent<O extends ObjectJson = ObjectJson> {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  readonly object: O & {
    readonly code?: number;
    readonly reason?: string;
    readonly message?: string;
  };
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

/**
 * What every store does with an ERROR event: throws WatchGoneError for a 410 (relist) and a plain
 * Error otherwise (re-watch).
 */
export function watchError(e: WatchEvent): Error {
  if (isGoneEvent(e)) return new WatchGoneError(e.object.message ?? "resource version gone");
  return new Error(`watch error: ${e.object.message ?? JSON.stringify(e.object)}`);
}

/**
 * One watch event for a store: ADDED and MODIFIED to `put`, DELETED to `remove`, BOOKMARK to
 * neither, ERROR thrown as {@link watchError}. Returns the event's resourceVersion, if any.
 */
export function routeEvent(
  e: WatchEvent,
  to: {
    put(o: WatchEvent["object"]): void;
    remove(o: WatchEvent["object"]): void;
  },
): string | undefined {
  // The stream's lines are parsed JSON of any shape: one that is no event ends this watch (the
  // store watches again) with an error that says what came, not a TypeError.
  const object: unknown = (e as { object?: unknown } | null)?.object;
  if (typeof object !== "object" || object === null) {
    throw new Error(
      `malformed watch event from the API server: ${JSON.stringify(e).slice(0, 200)}`,
    );
  }
  switch (e.type) {
    case "ADDED":
    case "MODIFIED":
      to.put(e.object);
      break;
    case "DELETED":
      to.remove(e.object);
      break;
    case "BOOKMARK":
      break;
    case "ERROR":
      throw watchError(e);
  }
  return e.object.metadata?.resourceVersion;
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

/**
 * GETs a list in pages of `limit` (`continue` from each page's metadata), handing each page's
 * items to `each` before the next is read, so no body holds the whole list: a body over 128 KB
 * is malloc'd apart and, once freed, raises glibc's mmap threshold to its size, after which
 * buffers up to that size stay in malloc's heap (issue #15). `path` may carry a query already.
 * Resolves to the list's resourceVersion (the last page's), or undefined once `signal` aborted.
 */
export async function listInPages(
  kube: KubeJson,
  path: string,
  limit: number,
  each: (item: unknown) => void,
  options: { readonly accept?: string | undefined; readonly signal?: AbortSignal } = {},
): Promise<string | undefined> {
  const sep = path.includes("?") ? "&" : "?";
  let cont = "";
  let rv = "";
  do {
    const more = cont === "" ? "" : `&continue=${encodeURIComponent(cont)}`;
    const page = (await kube.json(
      "GET",
      `${path}${sep}limit=${String(limit)}${more}`,
      undefined,
      options.accept === undefined ? {} : { accept: options.accept },
    )) as {
      metadata?: { continue?: string; resourceVersion?: string };
      items: unknown[] | null;
    };
    if (options.signal?.aborted) return undefined;
    for (const item of page.items ?? []) each(item);
    rv = page.metadata?.resourceVersion ?? rv;
    cont = page.metadata?.continue ?? "";
  } while (cont !== "");
  return rv;
}

/** The store a reflector keeps up to date. */
export interface ReflectedStore<T> {
  /** The last resourceVersion seen (a list's, then each event's). */
  readonly resourceVersion: string;
  /** Replaces everything with a complete list (a relist). */
  replaceCached(items: readonly T[], resourceVersion: string): void;
  /** Applies one watch event; throws {@link watchError}'s errors for an ERROR event. */
  apply(e: WatchEvent): void;
}

export type ReflectorEvent = "list" | "relist" | "watch" | "watch-error";

export interface ReflectorOptions<T> {
  readonly kube: Pick<KubeClient, "json" | "stream">;
  readonly log: Logger;
  /** The collection, e.g. `/api/v1/pods`, or with a query such as `?labelSelector=…`. */
  readonly path: string;
  /** Names the loop in logs ("pod cache") and what it lists ("pods"). */
  readonly name: string;
  readonly what: string;
  /** What is kept of a list item (watch events are the store's to cut). */
  readonly cut: (item: unknown) => T;
  readonly store: ReflectedStore<T>;
  /** Items per list page (`limit`). */
  readonly pageSize?: number;
  /** Server-side watch timeout; the watch is then resumed from the last resourceVersion. */
  readonly watchTimeoutSeconds?: number;
  /** How long a broken watch may leave the store in use before callers list directly. */
  readonly staleAfterMs?: number;
  /** Counts list and watch (re)starts, for the adapter's metrics. */
  readonly onEvent?: (e: ReflectorEvent) => void;
  readonly now?: () => number;
}

export class Reflector<T> {
  readonly #o: ReflectorOptions<T>;
  readonly #abort = new AbortController();
  #synced = false;
  /** When the watch last broke and has not been re-established since; undefined while healthy. */
  #brokenSince: number | undefined;
  #running: Promise<void> | undefined;

  constructor(o: ReflectorOptions<T>) {
    this.#o = o;
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** Synced, and the watch healthy or broken for less than the staleness bound. */
  get usable(): boolean {
    if (!this.#synced) return false;
    if (this.#brokenSince === undefined) return true;
    return this.#now() - this.#brokenSince < (this.#o.staleAfterMs ?? 30_000);
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
      if (Date.now() > deadline) throw new Error(`${this.#o.name} did not sync`);
      await sleep(20);
    }
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const { log, name } = this.#o;
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
          log.info({ err: String(e) }, `${name}: resource version gone, relisting`);
          this.#brokenSince ??= this.#now();
          needList = true;
          continue;
        }
        this.#brokenSince ??= this.#now();
        this.#o.onEvent?.("watch-error");
        const delay = backoffMs(attempt++);
        log.warn({ err: String(e), retryInMs: delay }, `${name}: list/watch failed`);
        try {
          await sleep(delay, undefined, { signal });
        } catch {
          break;
        }
      }
    }
  }

  async #list(signal: AbortSignal): Promise<void> {
    const { cut, store } = this.#o;
    this.#o.onEvent?.(this.#synced ? "relist" : "list");
    // Each page is cut down as it arrives: whole objects (spec, status, managed fields) of every
    // page until the last would be several KB an object at the peak of every relist.
    const items: T[] = [];
    const rv = await listInPages(
      this.#o.kube,
      this.#o.path,
      this.#o.pageSize ?? 500,
      (i) => items.push(cut(i)),
      { signal },
    );
    if (rv === undefined) return;
    store.replaceCached(items, rv);
    this.#synced = true;
    this.#brokenSince = undefined;
    this.#o.log.info(
      { [this.#o.what]: items.length, resourceVersion: rv },
      `${this.#o.name}: listed ${this.#o.what}`,
    );
  }

  async #watch(signal: AbortSignal): Promise<void> {
    const { store } = this.#o;
    const timeout = this.#o.watchTimeoutSeconds ?? 300;
    const q = new URLSearchParams({
      watch: "1",
      resourceVersion: store.resourceVersion,
      allowWatchBookmarks: "true",
      timeoutSeconds: String(timeout),
    });
    const sep = this.#o.path.includes("?") ? "&" : "?";
    await this.#o.kube.stream(
      `${this.#o.path}${sep}${q.toString()}`,
      (e) => {
        store.apply(e as WatchEvent);
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
