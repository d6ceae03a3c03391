/**
 * @module bench/support/synthetic-kubelets
 * A fleet of synthetic kubelets for the kubelet-source benchmark: one child process serving
 * `/metrics/resource` for every simulated node, each on its own loopback IP (127.200.x.y) and the
 * same port, over HTTPS (each node its own serving certificate, client certificates requested as
 * a kubelet does) or plain HTTP. Bodies are in the Prometheus text format as a kubelet writes it
 * (the families of its resource metrics collector, sorted, Go float formatting, per-container
 * cAdvisor timestamps). Counters grow at known rates, so the expected usage is known: the model
 * below is shared by the child that serves it and the benchmark that checks the adapter's answers.
 *
 * The node agent's renderer (src/harness/node-agent/exposition.ts) reads /proc for live processes,
 * so it does not fit simulated containers; this one mirrors its layout with synthetic values.
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { fileURLToPath } from "node:url";
import { issue, loadCa } from "../../src/pki/pki.ts";

export interface FleetSpec {
  readonly nodes: number;
  readonly podsPerNode: number;
  /** The kubelet port every synthetic node listens on (its own IP, this port). */
  readonly port: number;
  /** First two octets of the kubelets' loopback IPs, e.g. "127.200". */
  readonly network: string;
  /** Epoch ms; counters are as if every container had run an hour at its rate by then. */
  readonly t0: number;
  /**
   * HTTPS: every node serves its own certificate, issued by this CA (PEM) as the fleet starts,
   * naming only that node's IP, as a kubelet's serving certificate names its own node. (One
   * certificate naming every node's IP made each client connection hold all of them parsed: at
   * 1,000 nodes about 130 KB a connection in Node, issue #15.) Plain HTTP without it.
   */
  readonly tls?: { readonly caCertPem: string; readonly caKeyPem: string } | undefined;
}

export interface SimContainer {
  readonly name: string;
  /** Constant CPU rate, so the rate between any two scrapes is exactly this. */
  readonly millicores: number;
  readonly memoryBytes: number;
}

export interface SimPod {
  readonly namespace: string;
  readonly name: string;
  readonly containers: readonly SimContainer[];
}

const MiB = 1024 * 1024;
const NAMESPACES = 10;
/** Node overhead beyond its pods (system daemons, kernel). */
const NODE_EXTRA_MILLICORES = 250;
const NODE_EXTRA_BYTES = 1536 * MiB;

export function nodeName(i: number): string {
  return `bench-kubelet-${String(i).padStart(3, "0")}`;
}

export function nodeIp(spec: Pick<FleetSpec, "network">, i: number): string {
  return `${spec.network}.${String(Math.floor(i / 250))}.${String((i % 250) + 1)}`;
}

export function namespaces(): string[] {
  return Array.from({ length: NAMESPACES }, (_, k) => `bench-kubelet-${String(k)}`);
}

/** Pod j of node i: one container, every fifth pod with a sidecar. */
export function simPod(i: number, j: number): SimPod {
  const names = j % 5 === 0 ? ["app", "sidecar"] : ["app"];
  return {
    namespace: `bench-kubelet-${String(j % NAMESPACES)}`,
    name: `app-${String(i).padStart(3, "0")}-${String(j).padStart(2, "0")}`,
    containers: names.map((name, c) => ({
      name,
      millicores: 1 + ((i * 31 + j * 7 + c * 13) % 200),
      memoryBytes: (8 + ((i * 17 + j * 5 + c * 3) % 500)) * MiB,
    })),
  };
}

export function simPods(spec: Pick<FleetSpec, "podsPerNode">, i: number): SimPod[] {
  return Array.from({ length: spec.podsPerNode }, (_, j) => simPod(i, j));
}

export function simNode(
  spec: Pick<FleetSpec, "podsPerNode">,
  i: number,
): { millicores: number; memoryBytes: number } {
  let millicores = NODE_EXTRA_MILLICORES;
  let memoryBytes = NODE_EXTRA_BYTES;
  for (const p of simPods(spec, i)) {
    for (const c of p.containers) {
      millicores += c.millicores;
      memoryBytes += c.memoryBytes;
    }
  }
  return { millicores, memoryBytes };
}

/** Cumulative CPU seconds at `ts` of a counter growing at `millicores`. */
function cpuSeconds(t0: number, millicores: number, ts: number): number {
  return (millicores * (3_600_000 + ts - t0)) / 1e6;
}

/**
 * A float as Go's strconv.AppendFloat(f, 'g', -1, 64), which client_golang's text encoder uses
 * (prometheus/common expfmt writeFloat): shortest round-trip digits, and with the shortest
 * precision Go's %g switches to the exponent form below 1e-4 or from 1e6 on, with at least two
 * exponent digits (2876544 → "2.876544e+06").
 */
export function goFloat(v: number): string {
  if (v === 0) return "0";
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  const [mant = "", expText = "0"] = v.toExponential().split("e");
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    return `${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return String(v);
}

interface Family {
  readonly name: string;
  readonly type: "counter" | "gauge";
  readonly help: string;
}

function header(out: string[], f: Family): void {
  out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
}

/** One container row of a node, in the order the kubelet's registry sorts them. */
interface Row {
  readonly labels: string;
  readonly millicores: number;
  readonly memoryBytes: number;
  /** How far behind the scrape cAdvisor's sample of this container is (ms). */
  readonly lagMs: number;
  readonly startSeconds: number;
  /** A container started during the run: its CPU counter starts at 0 at this time (epoch ms). */
  readonly cpuFromMs?: number;
}

function rowsOf(spec: FleetSpec, i: number): { containers: Row[]; pods: Row[] } {
  const containers: Row[] = [];
  const pods: Row[] = [];
  simPods(spec, i).forEach((p, j) => {
    let millicores = 0;
    let memoryBytes = 0;
    p.containers.forEach((c, k) => {
      millicores += c.millicores;
      memoryBytes += c.memoryBytes;
      containers.push({
        labels: `{container="${c.name}",namespace="${p.namespace}",pod="${p.name}"}`,
        millicores: c.millicores,
        memoryBytes: c.memoryBytes,
        lagMs: (i * 7 + j * 11 + k * 3) % 1000,
        startSeconds: (spec.t0 - 3_600_000 - j * 1000 - k * 37) / 1000,
      });
    });
    pods.push({
      labels: `{namespace="${p.namespace}",pod="${p.name}"}`,
      millicores,
      memoryBytes,
      lagMs: (i * 7 + j * 11) % 1000,
      startSeconds: 0,
    });
  });
  // client_golang sorts a family's metrics by label values (container, namespace, pod).
  const byLabels = (a: Row, b: Row) => (a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0);
  return { containers: containers.sort(byLabels), pods: pods.sort(byLabels) };
}

/** A kubelet's `/metrics/resource` body for node i at `now` (epoch ms). */
export function renderResource(spec: FleetSpec, i: number, now: number): string {
  return renderRows(spec, i, rowsOf(spec, i), now);
}

function renderRows(
  spec: FleetSpec,
  i: number,
  rows: { containers: readonly Row[]; pods: readonly Row[] },
  now: number,
): string {
  const out: string[] = [];
  const per = (f: Family, list: readonly Row[], value: (r: Row, ts: number) => number) => {
    header(out, f);
    for (const r of list) {
      const ts = now - r.lagMs;
      out.push(`${f.name}${r.labels} ${goFloat(value(r, ts))} ${String(ts)}`);
    }
  };
  const cpu = (r: Row, ts: number) =>
    r.cpuFromMs === undefined
      ? cpuSeconds(spec.t0, r.millicores, ts)
      : (r.millicores * Math.max(0, ts - r.cpuFromMs)) / 1e6;
  per(
    {
      name: "container_cpu_usage_seconds_total",
      type: "counter",
      help: "[STABLE] Cumulative cpu time consumed by the container in core-seconds",
    },
    rows.containers,
    cpu,
  );
  per(
    {
      name: "container_memory_working_set_bytes",
      type: "gauge",
      help: "[STABLE] Current working set of the container in bytes",
    },
    rows.containers,
    (r) => r.memoryBytes,
  );
  per(
    {
      name: "container_start_time_seconds",
      type: "gauge",
      help: "[STABLE] Start time of the container since unix epoch in seconds",
    },
    rows.containers,
    (r) => r.startSeconds,
  );
  per(
    {
      name: "container_swap_usage_bytes",
      type: "gauge",
      help: "[ALPHA] Current amount of the container swap usage in bytes. Reported only on non-windows systems",
    },
    rows.containers,
    () => 0,
  );
  const node = simNode(spec, i);
  const nodeTs = now - ((i * 13) % 1000);
  header(out, {
    name: "node_cpu_usage_seconds_total",
    type: "counter",
    help: "[STABLE] Cumulative cpu time consumed by the node in core-seconds",
  });
  out.push(
    `node_cpu_usage_seconds_total ${goFloat(cpuSeconds(spec.t0, node.millicores, nodeTs))} ${String(nodeTs)}`,
  );
  header(out, {
    name: "node_memory_working_set_bytes",
    type: "gauge",
    help: "[STABLE] Current working set of the node in bytes",
  });
  out.push(`node_memory_working_set_bytes ${goFloat(node.memoryBytes)} ${String(nodeTs)}`);
  header(out, {
    name: "node_swap_usage_bytes",
    type: "gauge",
    help: "[ALPHA] Current swap usage of the node in bytes. Reported only on non-windows systems",
  });
  out.push(`node_swap_usage_bytes 0 ${String(nodeTs)}`);
  per(
    {
      name: "pod_cpu_usage_seconds_total",
      type: "counter",
      help: "[STABLE] Cumulative cpu time consumed by the pod in core-seconds",
    },
    rows.pods,
    cpu,
  );
  per(
    {
      name: "pod_memory_working_set_bytes",
      type: "gauge",
      help: "[STABLE] Current working set of the pod in bytes",
    },
    rows.pods,
    (r) => r.memoryBytes,
  );
  per(
    {
      name: "pod_swap_usage_bytes",
      type: "gauge",
      help: "[ALPHA] Current amount of the pod swap usage in bytes. Reported only on non-windows systems",
    },
    rows.pods,
    () => 0,
  );
  header(out, {
    name: "scrape_error",
    type: "gauge",
    help: "[STABLE] 1 if there was an error while getting container metrics, 0 otherwise",
  });
  out.push("scrape_error 0");
  return out.join("\n") + "\n";
}

/**
 * Rows of a pod that starts at `startMs` (epoch ms), to add to a node's body: its containers'
 * counters start at 0 then, and container_start_time_seconds says so.
 */
function newPodRows(p: SimPod, startMs: number): { containers: Row[]; pod: Row } {
  const containers = p.containers.map((c) => ({
    labels: `{container="${c.name}",namespace="${p.namespace}",pod="${p.name}"}`,
    millicores: c.millicores,
    memoryBytes: c.memoryBytes,
    lagMs: 0,
    startSeconds: startMs / 1000,
    cpuFromMs: startMs,
  }));
  return {
    containers,
    pod: {
      labels: `{namespace="${p.namespace}",pod="${p.name}"}`,
      millicores: containers.reduce((a, c) => a + c.millicores, 0),
      memoryBytes: containers.reduce((a, c) => a + c.memoryBytes, 0),
      lagMs: 0,
      startSeconds: 0,
      cpuFromMs: startMs,
    },
  };
}

/** Who scraped, from the User-Agent: metrics-server (client-go's) or anything else (ours). */
export type Scraper = "metrics-server" | "k8s-custom-metrics";

function scraperOf(req: IncomingMessage): Scraper {
  return (req.headers["user-agent"] ?? "").startsWith("metrics-server")
    ? "metrics-server"
    : "k8s-custom-metrics";
}

/** One scrape round as the kubelets saw it: first request in, last response out. */
export interface ObservedRound {
  readonly startMs: number;
  readonly endMs: number;
  readonly requests: number;
  readonly bytes: number;
  /** Connections opened during the round: 0 when the adapter reuses kept-alive ones. */
  readonly connections: number;
}

interface Served {
  readonly arrival: number;
  readonly finish: number;
  readonly bytes: number;
  /** The request came on a connection that had not served one before. */
  readonly fresh: boolean;
  readonly scraper: Scraper;
}

/** Requests more than 3 s apart belong to different rounds (the resolution is 15 s). */
function rounds(served: readonly Served[]): ObservedRound[] {
  const sorted = [...served].sort((a, b) => a.arrival - b.arrival);
  const out: {
    startMs: number;
    endMs: number;
    requests: number;
    bytes: number;
    connections: number;
  }[] = [];
  let last = -Infinity;
  for (const s of sorted) {
    let cur = out[out.length - 1];
    if (!cur || s.arrival - last > 3000) {
      cur = { startMs: s.arrival, endMs: s.finish, requests: 0, bytes: 0, connections: 0 };
      out.push(cur);
    }
    cur.endMs = Math.max(cur.endMs, s.finish);
    cur.requests++;
    cur.bytes += s.bytes;
    if (s.fresh) cur.connections++;
    last = s.arrival;
  }
  return out;
}

const SPEC_ENV = "K8SCM_SYNTHETIC_KUBELETS";

type ToChild =
  | { readonly type: "rounds"; readonly scraper?: Scraper | undefined }
  | {
      readonly type: "add-pod";
      readonly node: number;
      readonly pod: SimPod;
      readonly startMs: number;
    };
type FromChild =
  | { readonly type: "ready" }
  | { readonly type: "added" }
  | { readonly type: "error"; readonly message: string }
  | { readonly type: "rounds"; readonly rounds: ObservedRound[] };

/** The child: one server per simulated node, all on `spec.port`, each on its own IP. */
async function serveFleet(spec: FleetSpec): Promise<void> {
  const served: Served[] = [];
  const usedSockets = new WeakSet<object>();
  const rowsByNode = new Map<number, { containers: Row[]; pods: Row[] }>();
  const ca = spec.tls ? await loadCa(spec.tls.caCertPem, spec.tls.caKeyPem) : undefined;
  for (let i = 0; i < spec.nodes; i++) {
    rowsByNode.set(i, rowsOf(spec, i));
    const handle = (req: IncomingMessage, res: ServerResponse) => {
      const rows = rowsByNode.get(i) ?? { containers: [], pods: [] };
      const arrival = Date.now();
      const fresh = !usedSockets.has(req.socket);
      usedSockets.add(req.socket);
      const path = (req.url ?? "/").split("?")[0];
      if (path !== "/metrics/resource") {
        res.statusCode = 404;
        res.end("404 page not found\n");
        return;
      }
      const body = renderRows(spec, i, rows, Date.now());
      res.setHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      res.end(body, () => {
        served.push({
          arrival,
          finish: Date.now(),
          bytes: Buffer.byteLength(body),
          fresh,
          scraper: scraperOf(req),
        });
      });
    };
    // As a kubelet: client certificates are requested (the adapter presents its own), and
    // idle connections are kept long enough to be reused from one round to the next.
    const serving = ca
      ? await issue(ca, {
          commonName: nodeName(i),
          ipAddresses: [nodeIp(spec, i)],
          usage: "server",
        })
      : undefined;
    const server: Server = serving
      ? createHttpsServer(
          {
            cert: serving.certPem,
            key: serving.keyPem,
            requestCert: true,
            rejectUnauthorized: false,
          },
          handle,
        )
      : createHttpServer(handle);
    server.keepAliveTimeout = 90_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(spec.port, nodeIp(spec, i), () => {
        resolve();
      });
    });
  }
  process.on("message", (m: ToChild) => {
    if (m.type === "add-pod") {
      const rows = rowsByNode.get(m.node);
      if (rows) {
        const added = newPodRows(m.pod, m.startMs);
        const byLabels = (a: Row, b: Row) =>
          a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0;
        rowsByNode.set(m.node, {
          containers: [...rows.containers, ...added.containers].sort(byLabels),
          pods: [...rows.pods, added.pod].sort(byLabels),
        });
      }
      process.send?.({ type: "added" } satisfies FromChild);
      return;
    }
    const mine = m.scraper === undefined ? served : served.filter((s) => s.scraper === m.scraper);
    process.send?.({ type: "rounds", rounds: rounds(mine) } satisfies FromChild);
  });
  process.on("disconnect", () => process.exit(0));
  process.send?.({ type: "ready" } satisfies FromChild);
}

export interface RunningFleet {
  readonly pid: number;
  /** Scrape rounds seen so far (of one scraper, by its User-Agent, or of all). */
  rounds(scraper?: Scraper): Promise<ObservedRound[]>;
  /**
   * Adds a pod whose containers start at `startMs` to node `node`'s body (its counters start at 0
   * then): a new pod, for time to first metrics.
   */
  addPod(node: number, pod: SimPod, startMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the fleet in a child process (so the adapter's figures never include it). */
export async function startSyntheticKubelets(spec: FleetSpec): Promise<RunningFleet> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, [SPEC_ENV]: JSON.stringify(spec) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = (type: FromChild["type"]): Promise<FromChild> =>
    new Promise((resolve, reject) => {
      const onMessage = (m: FromChild) => {
        if (m.type !== type && m.type !== "error") return;
        cleanup();
        if (m.type === "error") reject(new Error(`synthetic kubelets: ${m.message}`));
        else resolve(m);
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`synthetic kubelets exited (${String(code)})`));
      };
      const cleanup = () => {
        child.off("message", onMessage);
        child.off("exit", onExit);
      };
      child.on("message", onMessage);
      child.once("exit", onExit);
    });
  await next("ready");
  return {
    pid: child.pid ?? 0,
    async rounds(scraper) {
      const reply = next("rounds");
      child.send({ type: "rounds", scraper } satisfies ToChild);
      const m = await reply;
      return m.type === "rounds" ? m.rounds : [];
    },
    async addPod(node, pod, startMs) {
      const reply = next("added");
      child.send({ type: "add-pod", node, pod, startMs } satisfies ToChild);
      await reply;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
  };
}

const specText = process.env[SPEC_ENV];
if (specText !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  serveFleet(JSON.parse(specText) as FleetSpec).catch((e: unknown) => {
    process.send?.({ type: "error", message: String(e) } satisfies FromChild);
    process.exit(1);
  });
}
