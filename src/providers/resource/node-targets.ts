/**
 * @module providers/resource/node-targets
 * The nodes the kubelet source scrapes, watched (kube/reflector.ts) as metrics-server reads them
 * from its node informer: listing every node each round parsed ~13 KB of JSON a node (its image
 * list most of it), at 1,000 nodes 13 MB every 15 s, the largest cost of a round after the scrapes
 * themselves (issue #15). Only what a scrape reads of a node is kept ({@link scrapeTarget}).
 */
import type { KubeClient } from "../../kube/client.ts";
import {
  Reflector,
  routeEvent,
  type ReflectedStore,
  type WatchEvent,
} from "../../kube/reflector.ts";
import type { Logger } from "../../observability/logger.ts";
import { NODE_PAGE_SIZE, scrapeTarget, type NodeJson } from "./kubelet-scraper.ts";

/** Nodes by name, as cut down for scraping; in list order, then in order of arrival. */
export class NodeTargetStore implements ReflectedStore<NodeJson> {
  readonly #nodes = new Map<string, NodeJson>();
  resourceVersion = "";

  replaceCached(items: readonly NodeJson[], resourceVersion: string): void {
    this.#nodes.clear();
    for (const n of items) this.#nodes.set(n.metadata.name, n);
    this.resourceVersion = resourceVersion;
  }

  apply(e: WatchEvent): void {
    const rv = routeEvent(e, {
      put: (o) => {
        const n = scrapeTarget(o as NodeJson);
        this.#nodes.set(n.metadata.name, n);
      },
      remove: (o) => {
        this.#nodes.delete(o.metadata?.name ?? "");
      },
    });
    if (rv) this.resourceVersion = rv;
  }

  /** A snapshot: a round scrapes the nodes there were when it started. */
  list(): NodeJson[] {
    return [...this.#nodes.values()];
  }
}

/** The nodes to scrape, kept by a list and watch of `path` (which carries `--node-selector`). */
export class NodeTargets {
  readonly store = new NodeTargetStore();
  readonly #reflector: Reflector<NodeJson>;

  constructor(o: {
    readonly kube: Pick<KubeClient, "json" | "stream">;
    readonly log: Logger;
    /** `/api/v1/nodes`, with `?labelSelector=…` for a node selector (see nodesPath). */
    readonly path: string;
    readonly now?: () => number;
  }) {
    this.#reflector = new Reflector({
      ...o,
      name: "node watch",
      what: "nodes",
      pageSize: NODE_PAGE_SIZE,
      cut: (i) => scrapeTarget(i as NodeJson),
      store: this.store,
    });
  }

  start(): void {
    this.#reflector.start();
  }

  stop(): Promise<void> {
    return this.#reflector.stop();
  }

  /**
   * The watched nodes; undefined until the first list completed or while the watch has been
   * broken for longer than the staleness bound (the scraper then lists them itself).
   */
  list(): NodeJson[] | undefined {
    return this.#reflector.usable ? this.store.list() : undefined;
  }
}
