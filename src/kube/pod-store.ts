/**
 * @module kube/pod-store
 * The pod cache's store: per pod only what the adapter answers with, by namespace and name,
 * updated from a list and from watch events, listed in API server order and filtered by label
 * selector, with recent selections kept. The list/watch loop that feeds it is kube/reflector.ts, started by kube/pod-cache.ts.
 */
import type { LabelSelector } from "../apimachinery/label-selector.ts";
import { parseLabelSelector } from "../apimachinery/label-selector-parser.ts";
import { StringTable } from "../apimachinery/string-table.ts";
import { routeEvent, type ReflectedStore, type WatchEvent } from "./reflector.ts";

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

/** Namespaces, node names and phases: a few hundred names spelled anew for every pod. */
const names = new StringTable(65_536);

export function cachedPod(o: PodJson): CachedPod {
  return {
    namespace: names.intern(o.metadata?.namespace ?? ""),
    name: o.metadata?.name ?? "",
    labels: o.metadata?.labels ?? {},
    phase: names.intern(o.status?.phase ?? ""),
    nodeName: names.intern(o.spec?.nodeName ?? ""),
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
export class PodStore implements ReflectedStore<CachedPod> {
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
    const rv = routeEvent(e, {
      put: (o) => {
        this.#put(cachedPod(o));
      },
      remove: (o) => {
        this.#delete(o.metadata?.namespace ?? "", o.metadata?.name ?? "");
      },
    });
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
