/**
 * @module providers/resource/kubelet-scraper
 * Scrapes each node's kubelet `/metrics/resource`, as metrics-server v0.8.0's scraper does
 * (pkg/scraper, pkg/scraper/client/resource): the nodes `--node-selector` picks, each at its
 * address by preferred address type, the kubelet port (or the node's reported one) and the path
 * its `metrics.k8s.io/resource-metrics-path` annotation names, HTTPS with the adapter's
 * credentials (or `--kubelet-client-certificate`/`--kubelet-client-key`), each request bounded
 * by `--kubelet-request-timeout`; or plain HTTP to loopback addresses only (the local node agent),
 * without credentials. Returns decoded points as metrics-server stores them.
 */
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { createSecureContext } from "node:tls";
import type { Agent } from "undici";
import { StringTable } from "../../apimachinery/string-table.ts";
import { createAgent, nodeError, requestPath } from "../../http/client.ts";
import type { KubeJson } from "../../kube/client.ts";
import { loadCredentials, type KubeCredentials } from "../../kube/kubeconfig.ts";
import { listInPages } from "../../kube/reflector.ts";
import { normalizeNodeSelector } from "./kubelet-options.ts";
import { equalsAscii, scanExposition } from "./text-format.ts";

export const DEFAULT_ADDRESS_TYPES = ["InternalIP", "ExternalIP", "Hostname"] as const;

export interface KubeletOptions {
  readonly scheme: "http" | "https";
  readonly port: number;
  readonly useNodeStatusPort: boolean;
  readonly preferredAddressTypes: readonly string[];
  readonly insecureTls: boolean;
  /** CA bundle for kubelet serving certificates; default: the kubeconfig's CA. */
  readonly caFile?: string | undefined;
  /** Kubeconfig whose credentials are sent to kubelets over HTTPS ("" or undefined: in-cluster). */
  readonly kubeconfig?: string | undefined;
  /**
   * Client certificate and key (PEM files) for kubelets instead of the kubeconfig's
   * (`--kubelet-client-certificate`, `--kubelet-client-key`); its token, if any, is still sent,
   * as client-go does. Read once, at the first HTTPS scrape.
   */
  readonly clientCertFile?: string | undefined;
  readonly clientKeyFile?: string | undefined;
  /** Only nodes this label selector picks are scraped (`--node-selector`, `-l`). */
  readonly nodeSelector?: string | undefined;
  /** The whole request to one kubelet, body included (`--kubelet-request-timeout`). */
  readonly timeoutMs: number;
}

/**
 * One sample of a counter and a gauge, as metrics-server's storage.MetricsPoint holds it: CPU as
 * uint64 nanocore-seconds and memory as uint64 bytes, converted from the text's floats as Go
 * converts them (truncated), so rates are computed from the same integers.
 */
export interface MetricsPoint {
  readonly timestampMs: number;
  /** Cumulative CPU in nanocore-seconds: an integer (up to 2^64, so not always exact as such). */
  readonly cpuNs: number;
  readonly memoryBytes: number;
  /** When the container started, in ns (Go's int64(seconds * 1e9)); undefined for nodes. */
  readonly startNs?: number | undefined;
  /**
   * Only on a fresh container's synthetic start point: its time in exact nanoseconds (a start
   * time is finer than the millisecond `timestampMs`, which is then rounded).
   */
  readonly timestampNs?: bigint;
}

/** A pod's points by container name (a Map does; the decoder gives a {@link ContainerPoints}). */
export interface PointsByContainer extends Iterable<readonly [string, MetricsPoint]> {
  readonly size: number;
  get(container: string): MetricsPoint | undefined;
}

/**
 * A pod's points by container in one flat array (name, point, name, point, …), in the order
 * added. A pod has one or two containers as a rule: a Map each, for every pod's last and previous
 * points, held about 15 MB of hash tables at 1,000 nodes × 30 pods (issue #15); this is about
 * 50 bytes a pod. Lookups scan the array, which for a few containers is as fast as hashing.
 */
export class ContainerPoints<P extends MetricsPoint = MetricsPoint> implements PointsByContainer {
  #a: (string | P)[] = [];

  get size(): number {
    return this.#a.length >> 1;
  }

  get(container: string): P | undefined {
    const a = this.#a;
    for (let i = 0; i < a.length; i += 2) if (a[i] === container) return a[i + 1] as P;
    return undefined;
  }

  /** Adds a container not yet in it. */
  add(container: string, p: P): void {
    this.#a.push(container, p);
  }

  /** Drops the spare capacity pushing left (done adding). */
  trim(): this {
    this.#a = this.#a.slice();
    return this;
  }

  *[Symbol.iterator](): IterableIterator<[string, P]> {
    const a = this.#a;
    for (let i = 0; i < a.length; i += 2) yield [a[i] as string, a[i + 1] as P];
  }
}

export interface NodeBatch {
  readonly node: MetricsPoint | undefined;
  /** `namespace/pod` → container name → point. */
  readonly pods: ReadonlyMap<string, PointsByContainer>;
}

export interface NodeJson {
  metadata: { name: string; annotations?: Record<string, string> };
  status?: {
    addresses?: { type: string; address: string }[];
    daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
  };
}

export function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** A node annotation naming another path than /metrics/resource (metrics-server's client.go). */
export const RESOURCE_METRICS_PATH_ANNOTATION = "metrics.k8s.io/resource-metrics-path";

/** The kubelet URL of a node, or an Error saying why there is none. */
export function kubeletUrl(node: NodeJson, o: KubeletOptions): URL | Error {
  const addresses = node.status?.addresses ?? [];
  let address: string | undefined;
  for (const t of o.preferredAddressTypes) {
    address = addresses.find((a) => a.type === t)?.address;
    if (address) break;
  }
  if (!address) {
    return new Error(
      `node ${node.metadata.name} has no address of type ${o.preferredAddressTypes.join(", ")}`,
    );
  }
  const statusPort = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0;
  const port = o.useNodeStatusPort && statusPort !== 0 ? statusPort : o.port;
  const host = isIP(address) === 6 ? `[${address}]` : address;
  const url = new URL(`${o.scheme}://${host}:${String(port)}/metrics/resource`);
  const path = node.metadata.annotations?.[RESOURCE_METRICS_PATH_ANNOTATION];
  // Set as the path only (escaped by the URL), so an annotation can never change the host.
  if (path !== undefined && path !== "") url.pathname = path;
  if (o.scheme === "http" && !isLoopback(address)) {
    return new Error(
      `refusing plain HTTP to node ${node.metadata.name} at ${address}: --kubelet-scheme=http is for loopback kubelets only`,
    );
  }
  return url;
}

export function isLoopback(address: string): boolean {
  if (address === "localhost" || address === "::1") return true;
  return isIP(address) === 4 && address.startsWith("127.");
}

const NODE_CPU = "node_cpu_usage_seconds_total";
const NODE_MEMORY = "node_memory_working_set_bytes";
const CONTAINER_CPU = "container_cpu_usage_seconds_total";
const CONTAINER_MEMORY = "container_memory_working_set_bytes";
const CONTAINER_START = "container_start_time_seconds";
/** The families read, by index (the scanner's family numbers). */
const FAMILIES = [NODE_CPU, NODE_MEMORY, CONTAINER_CPU, CONTAINER_MEMORY, CONTAINER_START];
const [F_NODE_CPU, F_NODE_MEMORY, F_CONTAINER_CPU, F_CONTAINER_MEMORY, F_CONTAINER_START] = [
  0, 1, 2, 3, 4,
];

/** Which of FAMILIES `b[start, end)` names, or -1; by length first, then bytes. */
function familyOf(b: Buffer, start: number, end: number): number {
  const length = end - start;
  for (let k = 0; k < FAMILIES.length; k++) {
    const name = FAMILIES[k] ?? "";
    if (name.length === length && equalsAscii(b, start, end, name)) return k;
  }
  return -1;
}

/**
 * Go's uint64(f), truncating; undefined for NaN, negatives and infinities, which Go converts to
 * arbitrary numbers (such a sample counts as missing).
 */
function goUint(f: number): number | undefined {
  return Number.isFinite(f) && f >= 0 ? Math.trunc(f) : undefined;
}

/**
 * A container's point as it is read: every number NaN until its line is seen. It becomes the
 * stored point itself once the pod is complete, so it is built with every field it will have
 * (`startNs` too, undefined until read): a field added later lives outside the object in V8.
 */
interface ReadPoint {
  timestampMs: number;
  cpuNs: number;
  memoryBytes: number;
  startNs: number | undefined;
}

/** Container names: every body spells them anew; most pods share a few ("app", sidecars). */
const containerNames = new StringTable(4096);

/** Go's uint64(f) as a point field: NaN (missing) for NaN, negatives and infinities. */
const uintOrNaN = (f: number) => goUint(f) ?? NaN;

/**
 * metrics-server's decodeBatch (pkg/scraper/client/resource/decode.go, v0.8.0): a point's time is
 * that of its last CPU or memory sample (the scrape's start when the line has none); a node
 * without CPU or memory is left out, and so is a whole pod when any of its containers lacks
 * either (a container with only a start time, for one). Unlike there, a sample of exactly 0 is a
 * value, not a missing one (docs/compatibility.md). Only the five families it reads are built;
 * the rest of the body (pod_*, swap, scrape_error) is only checked.
 */
export function decodeResourceMetrics(body: string | Uint8Array, scrapeTimeMs: number): NodeBatch {
  let nodeTs = NaN;
  let nodeCpu = NaN;
  let nodeMem = NaN;
  /** `namespace/pod` → container → its point, in the order first seen; the answer once checked. */
  const pods = new Map<string, ContainerPoints<ReadPoint>>();
  // A kubelet repeats a container's label text in each container family; the scanner numbers
  // each distinct text in a body, so its point is found by that number after the first line.
  const byLabelsId: (ReadPoint | null)[] = [];
  const part = (l: Readonly<Record<string, string>>, id: number): ReadPoint | undefined => {
    const seen = id >= 0 ? byLabelsId[id] : undefined;
    if (seen !== undefined) return seen ?? undefined;
    const ns = l["namespace"];
    const pod = l["pod"];
    const c = l["container"];
    let p: ReadPoint | null = null;
    if (ns && pod && c) {
      const key = podKey(ns, pod);
      let m = pods.get(key);
      if (!m) {
        m = new ContainerPoints();
        pods.set(key, m);
      }
      p = m.get(c) ?? null;
      if (!p) {
        p = { timestampMs: NaN, cpuNs: NaN, memoryBytes: NaN, startNs: undefined };
        m.add(containerNames.intern(c), p);
      }
    }
    if (id >= 0) byLabelsId[id] = p;
    return p ?? undefined;
  };
  scanExposition(typeof body === "string" ? Buffer.from(body, "utf8") : body, {
    family: familyOf,
    sample(family, labels, value, timestampMs, labelsId) {
      const ts = timestampMs ?? scrapeTimeMs;
      switch (family) {
        case F_NODE_CPU:
          nodeCpu = uintOrNaN(value * 1e9);
          nodeTs = ts;
          break;
        case F_NODE_MEMORY:
          nodeMem = uintOrNaN(value);
          nodeTs = ts;
          break;
        case F_CONTAINER_CPU: {
          const p = part(labels, labelsId);
          if (p) {
            p.cpuNs = uintOrNaN(value * 1e9);
            p.timestampMs = ts;
          }
          break;
        }
        case F_CONTAINER_MEMORY: {
          const p = part(labels, labelsId);
          if (p) {
            p.memoryBytes = uintOrNaN(value);
            p.timestampMs = ts;
          }
          break;
        }
        case F_CONTAINER_START: {
          const p = part(labels, labelsId);
          // time.Unix(0, int64(seconds * 1e9)): the start time does not set the point's time.
          if (p) p.startNs = Number.isFinite(value) ? Math.trunc(value * 1e9) : undefined;
          break;
        }
      }
    },
  });
  // checkContainerMetrics: one incomplete container leaves the whole pod out. The rest are kept
  // until the next round as they are (deleting the entry being visited is safe in a Map).
  pods: for (const [pk, m] of pods) {
    for (const [, p] of m) {
      if (Number.isNaN(p.cpuNs) || Number.isNaN(p.memoryBytes) || Number.isNaN(p.timestampMs)) {
        pods.delete(pk);
        continue pods;
      }
    }
    m.trim();
  }
  return {
    node:
      Number.isNaN(nodeTs) || Number.isNaN(nodeCpu) || Number.isNaN(nodeMem)
        ? undefined
        : { timestampMs: nodeTs, cpuNs: nodeCpu, memoryBytes: nodeMem },
    pods,
  };
}

const MAX_BODY = 64 * 1024 * 1024;

/**
 * Nodes per page of the node list each round. A Node as a kubelet reports it is ~13 KB of JSON
 * (its 50 image names most of it), so the whole list of 1,000 nodes was one 13 MB body and its
 * parsed objects held through the round: every 15 s that much old-generation garbage, and a
 * 13 MB malloc that, once freed, raised glibc's mmap threshold so later large buffers stayed in
 * its heap (issue #15). A page of 50 is ~0.6 MB, cut down as it arrives.
 */
export const NODE_PAGE_SIZE = 50;

/** What a scrape reads of a Node (kubeletUrl, the node's name), in fresh small objects. */
export function scrapeTarget(n: NodeJson): NodeJson {
  const path = n.metadata.annotations?.[RESOURCE_METRICS_PATH_ANNOTATION];
  const port = n.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  return {
    metadata: {
      name: n.metadata.name,
      ...(path === undefined ? {} : { annotations: { [RESOURCE_METRICS_PATH_ANNOTATION]: path } }),
    },
    status: {
      addresses: (n.status?.addresses ?? []).map((a) => ({ type: a.type, address: a.address })),
      ...(port === undefined ? {} : { daemonEndpoints: { kubeletEndpoint: { Port: port } } }),
    },
  };
}

/** The node collection `--node-selector` picks, as the API server filters it. */
export function nodesPath(nodeSelector: string | undefined): string {
  const selector = normalizeNodeSelector(nodeSelector);
  return selector === ""
    ? "/api/v1/nodes"
    : `/api/v1/nodes?labelSelector=${encodeURIComponent(selector)}`;
}

export class KubeletScraper {
  readonly #o: KubeletOptions;
  /** Only the node list comes from the API server. */
  readonly #kube: KubeJson;
  #tls: Promise<{ agent: Agent; creds: KubeCredentials }> | undefined;
  /**
   * Plain HTTP (loopback node agents): connections kept from one round to the next. One per
   * kubelet (`connections: 1`): a node is asked once at a time, and undici gives an origin with
   * more a Pool, whose request queue alone is 16 KB (2,048 slots): 16 MB of heap at 1,000 nodes.
   */
  readonly #http = createAgent({
    connections: 1,
    keepAliveMs: 60_000,
    maxResponseBytes: MAX_BODY,
  });

  /** Watched nodes (node-targets.ts); undefined from `list()` while they cannot be used. */
  readonly #nodes: { list(): NodeJson[] | undefined } | undefined;

  constructor(kube: KubeJson, o: KubeletOptions, nodes?: { list(): NodeJson[] | undefined }) {
    this.#kube = kube;
    this.#o = o;
    this.#nodes = nodes;
  }

  /**
   * The nodes to scrape: those `nodeSelector` picks (the API server applies it), from the watched
   * nodes when there are (`nodes`, node-targets.ts), else listed in pages of
   * {@link NODE_PAGE_SIZE}, each cut down to {@link scrapeTarget} before the next is read.
   */
  async listNodes(): Promise<NodeJson[]> {
    const watched = this.#nodes?.list();
    if (watched) return watched;
    const nodes: NodeJson[] = [];
    await listInPages(this.#kube, nodesPath(this.#o.nodeSelector), NODE_PAGE_SIZE, (n) =>
      nodes.push(scrapeTarget(n as NodeJson)),
    );
    return nodes;
  }

  /**
   * The adapter's identity for kubelets: the kubeconfig's client certificate and token, or the
   * given client certificate and key with the kubeconfig's token.
   */
  async #httpsOptions(): Promise<{ agent: Agent; headers: Record<string, string> }> {
    this.#tls ??= (async () => {
      const creds = loadCredentials(this.#o.kubeconfig);
      const { caFile, clientCertFile, clientKeyFile } = this.#o;
      const ca = caFile ? await readFile(caFile) : creds.ca;
      const own = Boolean(clientCertFile && clientKeyFile);
      const cert = own && clientCertFile ? await readFile(clientCertFile) : creds.cert;
      const key = own && clientKeyFile ? await readFile(clientKeyFile) : creds.key;
      // One TLS context for every kubelet connection: given ca/cert/key instead, Node builds
      // (and keeps) a context per connection, each parsing the CA bundle again.
      const secureContext = createSecureContext({
        ...(ca === undefined ? {} : { ca }),
        ...(cert === undefined ? {} : { cert }),
        ...(key === undefined ? {} : { key }),
      });
      // Connections stay open from one round to the next (kubelets keep idle ones for 90 s).
      const agent = createAgent({
        connections: 1,
        keepAliveMs: 60_000,
        maxResponseBytes: MAX_BODY,
        tls: { secureContext, insecure: this.#o.insecureTls },
      });
      return { agent, creds };
    })();
    const { agent, creds } = await this.#tls;
    // Read per request: projected service account tokens rotate.
    const token = creds.token?.();
    return { agent, headers: token ? { Authorization: `Bearer ${token}` } : {} };
  }

  /** GETs a node's /metrics/resource and decodes it. */
  async scrape(node: NodeJson): Promise<NodeBatch> {
    const url = kubeletUrl(node, this.#o);
    if (url instanceof Error) throw url;
    const started = Date.now();
    const { agent, headers } =
      url.protocol === "http:" ? { agent: this.#http, headers: {} } : await this.#httpsOptions();
    return decodeResourceMetrics(await this.#get(url, agent, headers), started);
  }

  /**
   * The body's bytes, as they came (the scanner reads them: no string of the whole body). Through
   * undici's handler interface rather than `request()`: no body stream, no AbortSignal and no
   * promise per chunk, which were a fifth of a round's own CPU at 100 nodes (issue #15).
   */
  #get(url: URL, agent: Agent, headers: Record<string, string>): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      let phase: "response" | "body" = "response";
      let status = 0;
      const chunks: Buffer[] = [];
      let size = 0;
      let controller: { abort(reason: Error): void } | undefined;
      let timedOut: Error | undefined;
      // A deadline for the whole exchange, as Go's context timeout: a kubelet that trickles its
      // body is given up on too, not only a silent one.
      const timer = setTimeout(() => {
        timedOut = new Error(`GET ${url.href}: timeout after ${String(this.#o.timeoutMs)} ms`);
        controller?.abort(timedOut);
      }, this.#o.timeoutMs);
      const fail = (e: unknown) => {
        clearTimeout(timer);
        if (timedOut) reject(timedOut);
        else if ((e as { code?: unknown } | null)?.code === "UND_ERR_RES_EXCEEDED_MAX_SIZE") {
          reject(new Error(`response larger than ${String(MAX_BODY)} bytes`, { cause: e }));
        } else reject(nodeError(e, phase));
      };
      agent.dispatch(
        {
          origin: url.origin,
          path: requestPath(url),
          method: "GET",
          headers: { Accept: "text/plain;version=0.0.4", ...headers },
        },
        {
          onRequestStart(c) {
            controller = c;
            if (timedOut) c.abort(timedOut);
          },
          onResponseStart(_c, statusCode) {
            status = statusCode;
            phase = "body";
          },
          onResponseData(_c, chunk) {
            chunks.push(chunk);
            size += chunk.length;
          },
          onResponseEnd() {
            clearTimeout(timer);
            const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
            if (status !== 200) {
              reject(
                new Error(
                  `GET ${url.href}: HTTP ${String(status)}: ${body.toString("utf8", 0, 200)}`,
                ),
              );
            } else resolve(body);
          },
          onResponseError(_c, e) {
            fail(e);
          },
        },
      );
    });
  }

  close(): void {
    void this.#http.destroy().catch(() => undefined);
    void this.#tls?.then((t) => t.agent.destroy()).catch(() => undefined);
  }
}
