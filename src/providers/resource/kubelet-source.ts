/**
 * @module providers/resource/kubelet-source
 * Resource metrics straight from kubelets, as metrics-server computes them (pkg/storage): every
 * `--metric-resolution` each node is scraped, only the last two points per node and per container
 * are kept, CPU is the rate between them (nanocores), memory the last working set, the window the
 * time between the two points and the timestamp the last one's.
 *
 * Unlike metrics-server, node scrapes are not staggered (it delays each by a random 0–8 ms per
 * node, up to 4 s): measured at 100 nodes that cost about half again as much CPU per round for no
 * clear memory gain (bench/README.md, kubelet source).
 */
import { Quantity, fromNanocores } from "../../apimachinery/quantity.ts";
import type { Logger } from "../../observability/logger.ts";
import {
  podKey,
  type KubeletScraper,
  type MetricsPoint,
  type NodeBatch,
} from "./kubelet-scraper.ts";
import type {
  ContainerUsage,
  NodeRef,
  NodeUsage,
  PodRef,
  PodUsage,
  ResourceMetricsSource,
  ResourceUsage,
} from "./types.ts";

/** metrics-server's resourceUsage: rate over the window; an error when the counter went down. */
export function resourceUsage(
  last: MetricsPoint,
  prev: MetricsPoint,
): { usage: ResourceUsage; timestamp: Date; windowNs: bigint } | Error {
  if (last.cpuSeconds < prev.cpuSeconds) {
    return new Error("unexpected decrease in cumulative CPU usage value");
  }
  const windowMs = last.timestampMs - prev.timestampMs;
  if (windowMs <= 0) return new Error("points are not in time order");
  // uint64(float64(lastNs - prevNs) / window.Seconds()) nanocores.
  const nanocores = Math.trunc(((last.cpuSeconds - prev.cpuSeconds) * 1e9) / (windowMs / 1000));
  return {
    usage: {
      cpu: fromNanocores(BigInt(nanocores)),
      memory: Quantity.fromInt(BigInt(Math.trunc(last.memoryBytes)), "BinarySI"),
    },
    timestamp: new Date(last.timestampMs),
    windowNs: BigInt(Math.round(windowMs * 1e6)),
  };
}

/** Which point becomes `prev` when `next` arrives (metrics-server's Store). */
function previous(
  next: MetricsPoint,
  last: MetricsPoint | undefined,
  prev: MetricsPoint | undefined,
): MetricsPoint | undefined {
  if (!last) return undefined;
  // A new start time at or after the stored point means a restart: the counter began again.
  const restarted = next.startTimeMs !== undefined && next.startTimeMs >= last.timestampMs;
  if (restarted) return undefined;
  if (next.timestampMs > last.timestampMs) return last;
  // No new sample since the last scrape: keep the older point if it is still older.
  if (prev && prev.timestampMs < next.timestampMs) return prev;
  return undefined;
}

/** The last two points of every node and container; fed one scrape round at a time. */
export class MetricsStore {
  #lastNodes = new Map<string, MetricsPoint>();
  #prevNodes = new Map<string, MetricsPoint>();
  #lastPods = new Map<string, ReadonlyMap<string, MetricsPoint>>();
  #prevPods = new Map<string, Map<string, MetricsPoint>>();

  /** One round: node name → what its kubelet reported. Nodes missing from it are forgotten. */
  store(batches: ReadonlyMap<string, NodeBatch>): void {
    const lastNodes = new Map<string, MetricsPoint>();
    const prevNodes = new Map<string, MetricsPoint>();
    const lastPods = new Map<string, ReadonlyMap<string, MetricsPoint>>();
    const prevPods = new Map<string, Map<string, MetricsPoint>>();
    for (const [name, batch] of batches) {
      if (batch.node) {
        const p = previous(batch.node, this.#lastNodes.get(name), this.#prevNodes.get(name));
        if (p) prevNodes.set(name, p);
        lastNodes.set(name, batch.node);
      }
      for (const [pod, containers] of batch.pods) {
        if (containers.size === 0) continue;
        const lastPod = this.#lastPods.get(pod);
        const prevPod = this.#prevPods.get(pod);
        const prevContainers = new Map<string, MetricsPoint>();
        for (const [c, point] of containers) {
          const p = previous(point, lastPod?.get(c), prevPod?.get(c));
          if (p) prevContainers.set(c, p);
        }
        prevPods.set(pod, prevContainers);
        lastPods.set(pod, containers);
      }
    }
    this.#lastNodes = lastNodes;
    this.#prevNodes = prevNodes;
    this.#lastPods = lastPods;
    this.#prevPods = prevPods;
  }

  node(name: string): NodeUsage | undefined {
    const last = this.#lastNodes.get(name);
    const prev = this.#prevNodes.get(name);
    if (!last || !prev) return undefined;
    const u = resourceUsage(last, prev);
    if (u instanceof Error) return undefined;
    return { usage: u.usage, timestamp: u.timestamp, windowNs: u.windowNs };
  }

  /** A pod's usage only when every container has two points; the earliest container time wins. */
  pod(namespace: string, name: string): PodUsage | undefined {
    const key = podKey(namespace, name);
    const last = this.#lastPods.get(key);
    const prev = this.#prevPods.get(key);
    if (!last || !prev) return undefined;
    const containers: ContainerUsage[] = [];
    let earliest: { timestamp: Date; windowNs: bigint } | undefined;
    for (const [c, point] of last) {
      const p = prev.get(c);
      if (!p) return undefined;
      const u = resourceUsage(point, p);
      if (u instanceof Error) continue;
      containers.push({ name: c, usage: u.usage });
      if (!earliest || earliest.timestamp > u.timestamp) earliest = u;
    }
    if (!earliest) return undefined;
    containers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { containers, timestamp: earliest.timestamp, windowNs: earliest.windowNs };
  }
}

export interface KubeletSourceOptions {
  readonly scraper: Pick<KubeletScraper, "listNodes" | "scrape">;
  readonly resolutionMs: number;
  readonly log: Logger;
}

export class KubeletSource implements ResourceMetricsSource {
  readonly store = new MetricsStore();
  readonly #o: KubeletSourceOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(o: KubeletSourceOptions) {
    this.#o = o;
  }

  /** One scrape round over every node, all nodes in parallel. */
  async scrapeOnce(): Promise<void> {
    const t0 = performance.now();
    const nodes = await this.#o.scraper.listNodes();
    const results = await Promise.allSettled(nodes.map((n) => this.#o.scraper.scrape(n)));
    const batches = new Map<string, NodeBatch>();
    results.forEach((r, i) => {
      const name = nodes[i]?.metadata.name ?? "";
      if (r.status === "fulfilled") batches.set(name, r.value);
      else {
        this.#o.log.warn({ node: name, err: String(r.reason) }, "unable to scrape kubelet");
      }
    });
    this.store.store(batches);
    // metrics-server reports the same as its tick duration; here at --v=2 (benchmarks read it).
    this.#o.log.debug(
      {
        nodes: nodes.length,
        scraped: batches.size,
        durationMs: Math.round((performance.now() - t0) * 10) / 10,
      },
      "scraped kubelets",
    );
  }

  /** Starts the scrape loop (idempotent). */
  start(): void {
    if (this.#timer || this.#stopped) return;
    const tick = () => {
      if (this.#running) return;
      this.#running = this.scrapeOnce()
        .catch((e: unknown) => {
          this.#o.log.warn({ err: String(e) }, "kubelet scrape round failed");
        })
        .finally(() => {
          this.#running = undefined;
        });
    };
    tick();
    this.#timer = setInterval(tick, this.#o.resolutionMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  podMetrics(pods: readonly PodRef[]): Promise<(PodUsage | undefined)[]> {
    return Promise.resolve(pods.map((p) => this.store.pod(p.namespace, p.name)));
  }

  nodeMetrics(nodes: readonly NodeRef[]): Promise<(NodeUsage | undefined)[]> {
    return Promise.resolve(nodes.map((n) => this.store.node(n.name)));
  }
}
