/**
 * @module providers/resource/kubelet-scraper
 * Scrapes each node's kubelet `/metrics/resource`, as metrics-server's scraper does: the node's
 * address by preferred address type, the kubelet port (or the node's reported one), HTTPS with the
 * adapter's credentials, or plain HTTP to loopback addresses only (the local node agent), without
 * credentials. Returns decoded points: cumulative CPU seconds, working set bytes, timestamps.
 */
import { readFile } from "node:fs/promises";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent, request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { createSecureContext } from "node:tls";
import type { KubeClient } from "../../kube/client.ts";
import { loadCredentials, type KubeCredentials } from "../../kube/kubeconfig.ts";
import { scanTextFormat } from "./text-format.ts";

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
  readonly timeoutMs: number;
}

/** One sample of a counter and a gauge, as metrics-server's storage.MetricsPoint. */
export interface MetricsPoint {
  readonly timestampMs: number;
  /** Cumulative CPU time in core-seconds. */
  readonly cpuSeconds: number;
  readonly memoryBytes: number;
  /** When the container started (ms); undefined for nodes. */
  readonly startTimeMs?: number;
}

export interface NodeBatch {
  readonly node: MetricsPoint | undefined;
  /** `namespace/pod` → container name → point. */
  readonly pods: ReadonlyMap<string, ReadonlyMap<string, MetricsPoint>>;
}

export interface NodeJson {
  metadata: { name: string };
  status?: {
    addresses?: { type: string; address: string }[];
    daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
  };
}

export function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

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
const WANTED = new Set([NODE_CPU, NODE_MEMORY, CONTAINER_CPU, CONTAINER_MEMORY, CONTAINER_START]);
const wanted = (name: string) => WANTED.has(name);

interface PartialPoint {
  ts: number | undefined;
  cpu: number | undefined;
  mem: number | undefined;
  start: number | undefined;
}

function partialPoint(): PartialPoint {
  return { ts: undefined, cpu: undefined, mem: undefined, start: undefined };
}

function finish(p: PartialPoint): MetricsPoint | undefined {
  if (p.cpu === undefined || p.mem === undefined || p.ts === undefined) return undefined;
  if (!Number.isFinite(p.cpu) || !Number.isFinite(p.mem) || p.cpu < 0 || p.mem < 0) {
    return undefined;
  }
  return {
    timestampMs: p.ts,
    cpuSeconds: p.cpu,
    memoryBytes: p.mem,
    ...(p.start === undefined ? {} : { startTimeMs: p.start }),
  };
}

/**
 * metrics-server's decodeBatch (pkg/scraper/client/resource/decode.go): points with both CPU and
 * memory, by node and container; the earlier of a point's two sample times is its time. Only the
 * five families it reads are built; the rest of the body (pod_*, swap, scrape_error) is only
 * checked.
 */
export function decodeResourceMetrics(text: string, scrapeTimeMs: number): NodeBatch {
  const node = partialPoint();
  const containers = new Map<string, Map<string, PartialPoint>>();
  const part = (l: Readonly<Record<string, string>>): PartialPoint | undefined => {
    const ns = l["namespace"];
    const pod = l["pod"];
    const c = l["container"];
    if (!ns || !pod || !c) return undefined;
    const key = podKey(ns, pod);
    let m = containers.get(key);
    if (!m) {
      m = new Map();
      containers.set(key, m);
    }
    let p = m.get(c);
    if (!p) {
      p = partialPoint();
      m.set(c, p);
    }
    return p;
  };
  scanTextFormat(text, wanted, (s) => {
    const ts = s.timestampMs ?? scrapeTimeMs;
    let p: PartialPoint | undefined;
    switch (s.name) {
      case NODE_CPU:
        node.cpu = s.value;
        p = node;
        break;
      case NODE_MEMORY:
        node.mem = s.value;
        p = node;
        break;
      case CONTAINER_CPU:
        p = part(s.labels);
        if (p) p.cpu = s.value;
        break;
      case CONTAINER_MEMORY:
        p = part(s.labels);
        if (p) p.mem = s.value;
        break;
      case CONTAINER_START: {
        const c = part(s.labels);
        if (c) c.start = s.value * 1000;
        return;
      }
    }
    if (p) p.ts = p.ts === undefined ? ts : Math.min(p.ts, ts);
  });
  const pods = new Map<string, Map<string, MetricsPoint>>();
  for (const [pk, m] of containers) {
    for (const [c, p] of m) {
      const pt = finish(p);
      if (!pt) continue;
      let out = pods.get(pk);
      if (!out) {
        out = new Map();
        pods.set(pk, out);
      }
      out.set(c, pt);
    }
  }
  return { node: finish(node), pods };
}

function readBody(res: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        res.destroy(new Error(`response larger than ${String(limit)} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on("end", () => {
      resolve(Buffer.concat(chunks).toString());
    });
    res.on("error", reject);
  });
}

const MAX_BODY = 64 * 1024 * 1024;

export class KubeletScraper {
  readonly #o: KubeletOptions;
  readonly #kube: KubeClient;
  #tls: Promise<{ agent: Agent; creds: KubeCredentials }> | undefined;
  /** Plain HTTP (loopback node agents): kept alive across rounds, unlike the global agent's 5 s. */
  readonly #http = new HttpAgent({ keepAlive: true, maxSockets: 8 });

  constructor(kube: KubeClient, o: KubeletOptions) {
    this.#kube = kube;
    this.#o = o;
  }

  listNodes(): Promise<NodeJson[]> {
    return this.#kube.json<{ items: NodeJson[] }>("GET", "/api/v1/nodes").then((l) => l.items);
  }

  /** The adapter's identity for kubelets: the kubeconfig's client certificate and token. */
  async #httpsOptions(): Promise<{ agent: Agent; headers: Record<string, string> }> {
    this.#tls ??= (async () => {
      const creds = loadCredentials(this.#o.kubeconfig);
      const ca = this.#o.caFile ? await readFile(this.#o.caFile) : creds.ca;
      // One TLS context for every kubelet connection: given ca/cert/key instead, Node builds
      // (and keeps) a context per connection, each parsing the CA bundle again.
      const secureContext = createSecureContext({
        ...(ca === undefined ? {} : { ca }),
        ...(creds.cert === undefined ? {} : { cert: creds.cert }),
        ...(creds.key === undefined ? {} : { key: creds.key }),
      });
      // Connections stay open from one round to the next (kubelets keep idle ones for 90 s).
      const agent = new Agent({
        keepAlive: true,
        maxSockets: 8,
        secureContext,
        rejectUnauthorized: !this.#o.insecureTls,
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
    let text: string;
    if (url.protocol === "http:") {
      text = await this.#get(url, httpRequest, { agent: this.#http });
    } else {
      const { agent, headers } = await this.#httpsOptions();
      text = await this.#get(url, httpsRequest, { agent, headers });
    }
    return decodeResourceMetrics(text, started);
  }

  #get(
    url: URL,
    send: typeof httpRequest | typeof httpsRequest,
    extra: { agent?: Agent | HttpAgent; headers?: Record<string, string> },
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        {
          method: "GET",
          timeout: this.#o.timeoutMs,
          ...(extra.agent ? { agent: extra.agent } : {}),
          headers: { Accept: "text/plain;version=0.0.4", ...(extra.headers ?? {}) },
        },
        (res) => {
          readBody(res, MAX_BODY).then((body) => {
            if ((res.statusCode ?? 0) !== 200) {
              reject(
                new Error(`GET ${url.href}: HTTP ${String(res.statusCode)}: ${body.slice(0, 200)}`),
              );
            } else resolve(body);
          }, reject);
        },
      );
      req.on("timeout", () =>
        req.destroy(new Error(`GET ${url.href}: timeout after ${String(this.#o.timeoutMs)} ms`)),
      );
      req.on("error", reject);
      req.end();
    });
  }

  close(): void {
    this.#http.destroy();
    void this.#tls?.then((t) => {
      t.agent.destroy();
    });
  }
}
