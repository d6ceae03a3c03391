/**
 * @module providers/resource/kubelet-source
 * Resource metrics straight from kubelets, as metrics-server v0.8.0 computes them (pkg/storage):
 * every `--metric-resolution` each node is scraped, only the last two points per node and per
 * container are kept, CPU is the rate between them (nanocores), memory the last working set, the
 * window the time between the two points and the timestamp the last one's. A container that
 * started less than one resolution (and at least 10 s) before its first point gets a synthetic
 * earlier point at its start time with no CPU used, so a new pod has metrics one scrape sooner.
 * A pod is served only once every container has two points.
 *
 * Unlike metrics-server, node scrapes are not staggered (it delays each by a random 0–8 ms per
 * node, up to 4 s): measured at 100 nodes that cost about half again as much CPU per round for no
 * clear memory gain (bench/README.md, kubelet source). Instead at most SCRAPE_CONCURRENCY
 * kubelets are asked at once, one after another as answers come.
 */
import { Quantity } from "../../apimachinery/quantity.ts";
import { fromNanocores } from "../../apimachinery/quantity-conversions.ts";
import type { Logger } from "../../observability/logger.ts";
import {
  ContainerPoints,
  podKey,
  type KubeletScraper,
  type MetricsPoint,
  type NodeBatch,
  type PointsByContainer,
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

/** pkg/storage/pod.go freshContainerMinMetricsResolution: a younger container's rate is noise. */
const FRESH_CONTAINER_MIN_NS = 10_000_000_000n;
const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

/** A point's time in ns: exact for a start point, else its millisecond timestamp. */
function timeNs(p: MetricsPoint): bigint {
  return p.timestampNs ?? BigInt(p.timestampMs) * NS_PER_MS;
}

/** Go's time.Time.Before between a start time (ns; undefined: the zero time) and a timestamp. */
function startsBefore(startNs: number | undefined, timestampMs: number): boolean {
  if (startNs === undefined) return true;
  // Exactly only when they are within a millisecond: BigInt costs, and this runs per container.
  const apartMs = timestampMs - startNs / 1e6;
  if (Math.abs(apartMs) > 1) return apartMs > 0;
  return BigInt(startNs) < BigInt(timestampMs) * NS_PER_MS;
}

/** metrics-server's resourceUsage (pkg/storage/types.go); an Error where it returns one. */
export function resourceUsage(
  last: MetricsPoint,
  prev: MetricsPoint,
): { usage: ResourceUsage; timestamp: Date; windowNs: bigint } | Error {
  if ((last.startNs ?? -Infinity) < (prev.startNs ?? -Infinity)) {
    return new Error("unexpected decrease in startTime of node/container");
  }
  if (last.cpuNs < prev.cpuNs) {
    return new Error("unexpected decrease in cumulative CPU usage value");
  }
  const windowNs = timeNs(last) - timeNs(prev);
  // The store never pairs such points; Go would divide by zero here.
  if (windowNs <= 0n) return new Error("points are not in time order");
  // float64(lastNs - prevNs) / window.Seconds(), truncated to uint64 nanocores. Both counters are
  // integers held exactly as floats, so their difference is exact too.
  const seconds = Number(windowNs / NS_PER_S) + Number(windowNs % NS_PER_S) / 1e9;
  const nanocores = Math.trunc((last.cpuNs - prev.cpuNs) / seconds);
  return {
    usage: {
      cpu: fromNanocores(BigInt(nanocores)),
      memory: Quantity.fromInt(BigInt(last.memoryBytes), "BinarySI"),
    },
    timestamp: new Date(last.timestampMs),
    windowNs,
  };
}

/** Which point becomes a node's `prev` when `next` arrives (pkg/storage/node.go Store). */
function previousNode(
  next: MetricsPoint,
  last: MetricsPoint | undefined,
  prev: MetricsPoint | undefined,
): MetricsPoint | undefined {
  if (!last) return undefined;
  if (next.timestampMs > last.timestampMs) return last;
  // No new sample since the last scrape: keep the older point if it is still older.
  if (prev && prev.timestampMs < next.timestampMs) return prev;
  return undefined;
}

/**
 * A fresh container's synthetic start point (pkg/storage/pod.go Store): started before its point,
 * less than one resolution and at least 10 s before it; CPU 0 at the start time.
 */
function freshStart(
  next: MetricsPoint,
  resolutionNs: bigint,
  resolutionMs: number,
): MetricsPoint | undefined {
  if (next.startNs === undefined) return undefined;
  // Cheap test first: most containers are hours old.
  if (next.timestampMs - next.startNs / 1e6 > resolutionMs + 1) return undefined;
  const startNs = BigInt(next.startNs);
  const age = BigInt(next.timestampMs) * NS_PER_MS - startNs;
  if (age <= 0n || age >= resolutionNs || age < FRESH_CONTAINER_MIN_NS) return undefined;
  return {
    timestampMs: Math.floor(next.startNs / 1e6),
    timestampNs: startNs,
    cpuNs: 0,
    memoryBytes: next.memoryBytes,
    startNs: next.startNs,
  };
}

/** Which point becomes a container's `prev` when `next` arrives (pkg/storage/pod.go Store). */
function previousContainer(
  next: MetricsPoint,
  last: MetricsPoint | undefined,
  prev: MetricsPoint | undefined,
  resolutionNs: bigint,
  resolutionMs: number,
): MetricsPoint | undefined {
  const fresh = freshStart(next, resolutionNs, resolutionMs);
  if (fresh) return fresh;
  // A start at or after the stored point means a restart: the counter began again.
  if (!last || !startsBefore(next.startNs, last.timestampMs)) return undefined;
  if (next.timestampMs > last.timestampMs) return last;
  // No new sample since the last scrape: keep the older point if it is still older. (Upstream
  // also pairs a container it has no previous point for with an empty point here, giving it a
  // window of 292 years; such a container waits for a real point instead.)
  if (prev && prev.timestampMs < next.timestampMs) return prev;
  return undefined;
}

/** The last two points of every node and container; fed one scrape round at a time. */
export class MetricsStore {
  readonly #resolutionNs: bigint;
  readonly #resolutionMs: number;
  #lastNodes = new Map<string, MetricsPoint>();
  #prevNodes = new Map<string, MetricsPoint>();
  #lastPods = new Map<string, PointsByContainer>();
  #prevPods = new Map<string, PointsByContainer>();
  /**
   * This round's answers, computed at the first request: the same object for every request of a
   * round (metrics.k8s.io formats each once per round), dropped with the round.
   */
  #podUsage = new Map<string, PodUsage | null>();
  #nodeUsage = new Map<string, NodeUsage | null>();

  /** `resolutionMs`: the scrape interval, which bounds how young a fresh container is. */
  constructor(resolutionMs: number) {
    this.#resolutionNs = BigInt(Math.round(resolutionMs)) * NS_PER_MS;
    this.#resolutionMs = Number(this.#resolutionNs / NS_PER_MS);
  }

  /** One round: node name → what its kubelet reported. Nodes missing from it are forgotten. */
  store(batches: ReadonlyMap<string, NodeBatch>): void {
    const lastNodes = new Map<string, MetricsPoint>();
    const prevNodes = new Map<string, MetricsPoint>();
    const lastPods = new Map<string, PointsByContainer>();
    const prevPods = new Map<string, PointsByContainer>();
    for (const [name, batch] of batches) {
      if (batch.node) {
        const p = previousNode(batch.node, this.#lastNodes.get(name), this.#prevNodes.get(name));
        if (p) prevNodes.set(name, p);
        lastNodes.set(name, batch.node);
      }
      for (const [pod, containers] of batch.pods) {
        // A pod two kubelets report (it moved): the first one read is kept, as upstream does.
        if (containers.size === 0 || lastPods.has(pod)) continue;
        const lastPod = this.#lastPods.get(pod);
        const prevPod = this.#prevPods.get(pod);
        const previous = (c: string, point: MetricsPoint) =>
          previousContainer(
            point,
            lastPod?.get(c),
            prevPod?.get(c),
            this.#resolutionNs,
            this.#resolutionMs,
          );
        // As a rule every container's previous point is its last one: then the last round's
        // points are this round's previous ones as they are, and nothing is built for them.
        let allLast = lastPod !== undefined && lastPod.size === containers.size;
        for (const [c, point] of containers) {
          if (!allLast) break;
          const p = previous(c, point);
          allLast = p !== undefined && p === lastPod?.get(c);
        }
        if (allLast && lastPod) prevPods.set(pod, lastPod);
        else {
          const prevContainers = new ContainerPoints();
          for (const [c, point] of containers) {
            const p = previous(c, point);
            if (p) prevContainers.add(c, p);
          }
          if (prevContainers.size > 0) prevPods.set(pod, prevContainers.trim());
        }
        lastPods.set(pod, containers);
      }
    }
    this.#lastNodes = lastNodes;
    this.#prevNodes = prevNodes;
    this.#lastPods = lastPods;
    this.#prevPods = prevPods;
    this.#podUsage = new Map();
    this.#nodeUsage = new Map();
  }

  /** metrics-server's storage.Ready: some node or pod has two points, so there is a rate. */
  get ready(): boolean {
    return this.#prevNodes.size > 0 || this.#prevPods.size > 0;
  }

  node(name: string): NodeUsage | undefined {
    let u = this.#nodeUsage.get(name);
    if (u === undefined) {
      u = this.#computeNode(name) ?? null;
      this.#nodeUsage.set(name, u);
    }
    return u ?? undefined;
  }

  #computeNode(name: string): NodeUsage | undefined {
    const last = this.#lastNodes.get(name);
    const prev = this.#prevNodes.get(name);
    if (!last || !prev) return undefined;
    const u = resourceUsage(last, prev);
    if (u instanceof Error) return undefined;
    return { usage: u.usage, timestamp: u.timestamp, windowNs: u.windowNs };
  }

  /**
   * A pod's usage once every container has a previous point (pkg/storage/pod.go GetMetrics); a
   * container whose rate is an error is left out of it. The earliest container time wins.
   */
  pod(namespace: string, name: string): PodUsage | undefined {
    const key = podKey(namespace, name);
    let u = this.#podUsage.get(key);
    if (u === undefined) {
      u = this.#computePod(key) ?? null;
      this.#podUsage.set(key, u);
    }
    return u ?? undefined;
  }

  #computePod(key: string): PodUsage | undefined {
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
    // Every container's rate failed: upstream serves the pod without containers and with a null
    // timestamp; it is left out here (docs/compatibility.md).
    if (!earliest) return undefined;
    containers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { containers, timestamp: earliest.timestamp, windowNs: earliest.windowNs };
  }
}

/**
 * Kubelets scraped at once. All of a large cluster's at once gain nothing (one thread decodes
 * them) but hold every body and TLS buffer together, and start every request's timeout together:
 * at 1,000 nodes on a loaded machine, requests queued behind the others timed out and their
 * connections were opened again (a TLS handshake each) the next round.
 */
export const SCRAPE_CONCURRENCY = 32;

export interface KubeletSourceOptions {
  readonly scraper: Pick<KubeletScraper, "listNodes" | "scrape">;
  readonly resolutionMs: number;
  readonly log: Logger;
}

export class KubeletSource implements ResourceMetricsSource {
  /** A scrape round's usage objects stand until the next round. */
  readonly sharesUsage = true;
  readonly store: MetricsStore;
  readonly #o: KubeletSourceOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(o: KubeletSourceOptions) {
    this.#o = o;
    this.store = new MetricsStore(o.resolutionMs);
  }

  /**
   * One scrape round over every node, at most {@link SCRAPE_CONCURRENCY} at a time (each
   * request's timeout starts when it is sent).
   */
  async scrapeOnce(): Promise<void> {
    const t0 = performance.now();
    const nodes = await this.#o.scraper.listNodes();
    const results: (NodeBatch | Error | undefined)[] = new Array<undefined>(nodes.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < nodes.length; i = next++) {
        const node = nodes[i];
        if (!node) continue;
        try {
          results[i] = await this.#o.scraper.scrape(node);
        } catch (e) {
          results[i] = e instanceof Error ? e : new Error(String(e));
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(SCRAPE_CONCURRENCY, nodes.length) }, () => worker()),
    );
    const batches = new Map<string, NodeBatch>();
    results.forEach((r, i) => {
      const name = nodes[i]?.metadata.name ?? "";
      if (r instanceof Error) {
        this.#o.log.warn({ node: name, err: String(r) }, "unable to scrape kubelet");
      } else if (r) batches.set(name, r);
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

  /**
   * Whether there is anything to serve yet (metrics-server's `metric-storage-ready` readiness
   * check): false until a second scrape round gave some node or pod a rate.
   */
  get ready(): boolean {
    return this.store.ready;
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
