/**
 * @module bench/kubelet-source
 * metrics.k8s.io from kubelets, ours (`--resource-metrics-source=kubelet`, the compiled adapter)
 * and metrics-server v0.8.0 (built from the Go module proxy, test/support/metrics-server.ts) side
 * by side in one run, at each size in BENCH_KUBELET_SIZES (100 and 1,000 synthetic nodes × 30
 * pods): synthetic kubelets on loopback (bench/support/synthetic-kubelets.ts, a child process),
 * Node and Pod objects in the local API server bound to those nodes, both servers scraping the
 * same kubelets at the same time with the same flags at a 15 s resolution. Per server: CPU
 * (utime + stime over a steady window), RSS and VmHWM, total and per node; the scrape round as the
 * kubelets saw it (first request in to last response out, told apart by User-Agent) and as the
 * server logs it; `/apis/metrics.k8s.io/v1beta1/pods` latency at c=1 and c=16 (one server loaded
 * at a time, over HTTP/2 with the front-proxy certificate, as the aggregator); time from a new
 * pod's Ready to its first PodMetrics. Both servers' answers are checked against the synthetic
 * model before and after the window; any mismatch fails the scenario.
 *
 * Knobs: BENCH_KUBELET_SIZES (100,1000), BENCH_KUBELET_PODS (30 per node), BENCH_KUBELET_SECONDS
 * (60, the measured window), BENCH_KUBELET_LOAD_SECONDS (10 per latency cell),
 * BENCH_KUBELET_NEW_PODS (6), BENCH_KUBELET_DEADLINE and BENCH_KUBELET_FALLBACK (an ISO time and a
 * smaller size: a size whose object creation, at the rate measured so far, and measurement would
 * end after the deadline is replaced by the fallback, or left out), BENCH_KUBELET_CPU_PROF (a directory: ours runs with --cpu-prof).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import * as k8s from "@kubernetes/client-node";
import { Quantity } from "../src/apimachinery/quantity.ts";
import { createCa } from "../src/pki/pki.ts";
import { httpsGet } from "../test/support/http.ts";
import { freePort } from "../test/support/prometheus.ts";
import { stopChild } from "../test/support/process.ts";
import { ensureMetricsServer, METRICS_SERVER_VERSION } from "../test/support/metrics-server.ts";
import type { BenchContext, Scenario } from "./scenario.ts";
import { aggregatorCredentials, ensureMetricsReader } from "./support/adapters.ts";
import { overlayContainerEnv, ourServe } from "./support/deployed.ts";
import { runLoad, type LoadResult } from "./support/load.ts";
import {
  namespaces,
  nodeIp,
  nodeName,
  simNode,
  simPod,
  simPods,
  startSyntheticKubelets,
  type FleetSpec,
  type ObservedRound,
  type RunningFleet,
  type Scraper,
  type SimPod,
} from "./support/synthetic-kubelets.ts";

const RESOLUTION_S = 15;
/**
 * Where the kubelet source's env (NODE_OPTIONS, glibc's malloc settings) ships: ours is started
 * with it, replacing the image's NODE_OPTIONS, as the overlay's Deployment runs it. With the
 * image's 96 MiB, sixteen concurrent 1,000-node `/pods` answers (8 MB of JSON each) do not fit.
 */
const KUBELET_ROLE_SIZING = "deploy/overlays/resource-metrics/sizing.yaml";
const SYNTHETIC_LABEL = "k8s-custom-metrics.bench/synthetic-kubelet";
const PODS_PATH = "/apis/metrics.k8s.io/v1beta1/pods";
/** New pods 2.5 s apart: six of them meet the 15 s scrape cycle at evenly spread phases. */
const NEW_POD_EVERY_MS = 2500;

// ---- /proc ---------------------------------------------------------------------------------

const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, "utf8");
  // Fields after "(comm)": state is the 1st, utime the 12th, stime the 13th.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function statusKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(
    readFileSync(`/proc/${String(pid)}/status`, "utf8"),
  );
  return Number(m?.[1] ?? 0);
}

/** Some `/proc/<pid>/smaps_rollup` and `status` fields, in KiB (absent ones left out). */
function procMemoryKb(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  const read = (file: string, fields: readonly string[]) => {
    let text: string;
    try {
      text = readFileSync(`/proc/${String(pid)}/${file}`, "utf8");
    } catch {
      return;
    }
    for (const f of fields) {
      const m = new RegExp(`^${f}:\\s+(\\d+)`, "m").exec(text);
      if (m) out[f] = Number(m[1]);
    }
  };
  read("status", ["VmRSS", "RssAnon", "RssFile", "VmHWM", "Threads"]);
  read("smaps_rollup", ["Anonymous", "Private_Dirty", "Shared_Clean", "Private_Clean"]);
  return out;
}

/**
 * Where a server's memory is, for the log: its own /metrics' heap and process gauges (Node's
 * nodejs_heap_* and nodejs_external_memory_bytes; Go's go_memstats_*), and /proc's split of RSS.
 */
async function memoryBreakdown(server: Server, creds: Creds): Promise<string> {
  const proc = procMemoryKb(server.pid);
  const mib = (b: number) => (b / 1048576).toFixed(1);
  const parts = Object.entries(proc).map(([k, v]) =>
    k === "Threads" ? `${k} ${String(v)}` : `${k} ${(v / 1024).toFixed(1)}`,
  );
  const res = await get(server.port, creds, "/metrics", 30_000).catch(() => undefined);
  const want =
    /^(nodejs_heap_size_(used|total)_bytes|nodejs_external_memory_bytes|nodejs_heap_space_size_used_bytes\{space="(old|new|large_object|code)"\}|go_memstats_(heap_(inuse|idle|released|sys)|stack_inuse|sys|mspan_sys|other_sys)_bytes) (\S+)$/;
  for (const line of res?.status === 200 ? res.text.split("\n") : []) {
    const m = want.exec(line);
    if (m) parts.push(`${line.slice(0, line.lastIndexOf(" "))} ${mib(Number(m[m.length - 1]))}`);
  }
  return `${server.who} memory (MiB): ${parts.join(", ")}`;
}

// ---- objects in the API server ---------------------------------------------------------------

async function pool<T>(items: readonly T[], width: number, f: (t: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const item = items[next++];
        if (item !== undefined) await f(item);
      }
    }),
  );
}

/**
 * A Node as a kubelet on a cloud VM registers it, at about its real size: labels, annotations,
 * the five conditions, and the 50 images a kubelet reports by default (--node-status-max-images),
 * since the source lists every node each round and that list is part of its cost.
 */
function nodeObject(spec: FleetSpec, i: number): k8s.V1Node {
  const name = nodeName(i);
  const now = new Date();
  const hex = (n: number) => n.toString(16).padStart(8, "0").repeat(8);
  const images = Array.from({ length: 50 }, (_, k) => {
    const repo = `registry.example.com/team-${String(k % 7)}/service-${String(k)}`;
    return {
      names: [`${repo}@sha256:${hex(i * 50 + k)}`, `${repo}:v1.${String(k)}.${String(i % 10)}`],
      sizeBytes: 20_000_000 + k * 3_000_017,
    };
  });
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  const resources = {
    cpu: "8",
    "ephemeral-storage": "101430960Ki",
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    memory: "32817000Ki",
    pods: "110",
  };
  return {
    metadata: {
      name,
      labels: {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": "m6i.2xlarge",
        "topology.kubernetes.io/region": "eu-west-1",
        "topology.kubernetes.io/zone": `eu-west-1${"abc"[i % 3] ?? "a"}`,
        [SYNTHETIC_LABEL]: "true",
      },
      annotations: {
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        "csi.volume.kubernetes.io/nodeid": `{"ebs.csi.aws.com":"i-0${hex(i).slice(0, 16)}"}`,
      },
    },
    spec: { podCIDR: `10.${String(64 + Math.floor(i / 256))}.${String(i % 256)}.0/24` },
    status: {
      addresses: [
        { type: "InternalIP", address: nodeIp(spec, i) },
        { type: "Hostname", address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: spec.port } },
      capacity: resources,
      allocatable: { ...resources, cpu: "7910m", memory: "31665000Ki" },
      conditions: [
        condition(
          "MemoryPressure",
          "False",
          "KubeletHasSufficientMemory",
          "kubelet has sufficient memory available",
        ),
        condition(
          "DiskPressure",
          "False",
          "KubeletHasNoDiskPressure",
          "kubelet has no disk pressure",
        ),
        condition(
          "PIDPressure",
          "False",
          "KubeletHasSufficientPID",
          "kubelet has sufficient PID available",
        ),
        condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
      ],
      images,
      nodeInfo: {
        architecture: "amd64",
        bootID: `${hex(i).slice(0, 8)}-0000-4000-8000-${hex(i).slice(0, 12)}`,
        containerRuntimeVersion: "containerd://1.7.27",
        kernelVersion: "6.8.0-1021-aws",
        kubeProxyVersion: "",
        kubeletVersion: "v1.36.3",
        machineID: hex(i).slice(0, 32),
        operatingSystem: "linux",
        osImage: "Ubuntu 24.04.2 LTS",
        systemUUID: `ec2${hex(i).slice(0, 5)}-0000-4000-8000-${hex(i).slice(0, 12)}`,
      },
    },
  };
}

/**
 * Nodes `from`..`spec.nodes - 1` and their Running Pods (bound to them, so the local node agent
 * leaves them alone); the namespaces too when `from` is 0. A larger size adds to a smaller one.
 */
async function createObjects(
  core: k8s.CoreV1Api,
  spec: FleetSpec,
  from: number,
  log: (l: string) => void,
): Promise<void> {
  if (from === 0) {
    for (const ns of namespaces()) {
      await core.createNamespace({ body: { metadata: { name: ns } } });
    }
  }
  const indexes = Array.from({ length: spec.nodes - from }, (_, k) => from + k);
  await pool(indexes, 8, async (i) => {
    const created = await core.createNode({ body: nodeObject(spec, i) });
    // The API server may drop status on create; set it through the status subresource.
    const status = nodeObject(spec, i).status;
    if (status) created.status = status;
    await core.replaceNodeStatus({ name: nodeName(i), body: created });
  });
  log(`created nodes ${String(from)}..${String(spec.nodes - 1)}`);
  const pods = indexes.flatMap((i) => simPods(spec, i).map((p) => ({ i, p })));
  const started = new Date(spec.t0 - 3_600_000);
  await pool(pods, 48, async ({ i, p }) => {
    await createRunningPod(core, i, p, started);
  });
  log(`created ${String(pods.length)} running pods`);
}

/** A Pod bound to synthetic node i, then Running and Ready through the status subresource. */
async function createRunningPod(
  core: k8s.CoreV1Api,
  i: number,
  p: SimPod,
  started: Date,
): Promise<void> {
  const created = await core.createNamespacedPod({
    namespace: p.namespace,
    body: {
      metadata: { name: p.name, labels: { app: "bench" } },
      spec: {
        nodeName: nodeName(i),
        containers: p.containers.map((c) => ({
          name: c.name,
          image: "registry.k8s.io/pause:3.10",
        })),
        // Synthetic nodes hold no Lease and turn NotReady: no eviction during the run.
        tolerations: [{ operator: "Exists", effect: "NoExecute" }],
      },
    },
  });
  created.status = {
    phase: "Running",
    startTime: started,
    conditions: [{ type: "Ready", status: "True", lastTransitionTime: started }],
    containerStatuses: p.containers.map((c) => ({
      name: c.name,
      image: "registry.k8s.io/pause:3.10",
      imageID: "",
      ready: true,
      restartCount: 0,
      started: true,
      state: { running: { startedAt: started } },
    })),
  };
  await core.replaceNamespacedPodStatus({ name: p.name, namespace: p.namespace, body: created });
}

async function deleteObjects(core: k8s.CoreV1Api, log: (l: string) => void): Promise<void> {
  // Bound pods wait for their kubelet to confirm deletion; there is none, so no grace period.
  for (const ns of namespaces()) {
    await core
      .deleteCollectionNamespacedPod({ namespace: ns, gracePeriodSeconds: 0 })
      .catch(() => undefined);
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
  }
  await core
    .deleteCollectionNode({ labelSelector: `${SYNTHETIC_LABEL}=true` })
    .catch(() => undefined);
  const nodes = await core.listNode({ labelSelector: `${SYNTHETIC_LABEL}=true` });
  const pods = await core.listPodForAllNamespaces({ labelSelector: "app=bench" });
  log(
    `cleaned up: ${String(nodes.items.length)} synthetic nodes and ${String(pods.items.length)} pods left; namespaces terminating`,
  );
}

// ---- the two servers -------------------------------------------------------------------------

type Who = "ours" | "metrics-server";
const WHO: readonly Who[] = ["ours", "metrics-server"];
const SCRAPER: Record<Who, Scraper> = {
  ours: "k8s-custom-metrics",
  "metrics-server": "metrics-server",
};

interface Creds {
  readonly cert: string;
  readonly key: string;
}

interface Server {
  readonly who: Who;
  readonly port: number;
  readonly pid: number;
  readonly command: string;
  /** Rounds the server logged: when the line came and how long the round took. */
  readonly rounds: { at: number; ms: number; scraped?: number }[];
  tail(): string;
  /** Why the process ended ("exit code 1", "signal SIGABRT"), or undefined while it runs. */
  exited(): string | undefined;
  stop(): Promise<void>;
}

/** GET over HTTPS as the aggregator sends it, as a cluster admin. */
function get(
  port: number,
  creds: Creds,
  path: string,
  timeoutMs = 120_000,
): Promise<{ status: number; text: string }> {
  return httpsGet({
    port,
    path,
    cert: creds.cert,
    key: creds.key,
    insecure: true,
    headers: { "X-Remote-User": "admin", "X-Remote-Group": "system:masters" },
    timeoutMs,
  });
}

/** A Go duration as klog prints it ("1.234567s", "812.3ms", "1m2.5s"), in ms. */
function goDurationMs(text: string): number {
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000 };
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m)/g)) {
    ms += Number(m[1]) * (unit[m[2] ?? ""] ?? NaN);
  }
  return ms;
}

/**
 * Starts one server with the same kubelet flags for both (metrics-server's manifest's address
 * types, the synthetic kubelets' port, 15 s) and delegated authentication and authorization
 * against the local cluster; ready once `/healthz` answers.
 */
async function startServer(ctx: BenchContext, who: Who, spec: FleetSpec): Promise<Server> {
  const creds = await frontProxyCreds(ctx);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const certDir = mkdtempSync(join(tmpdir(), `kcm-bench-${who}-`));
    const common = [
      `--authentication-kubeconfig=${ctx.kubeconfig}`,
      `--authorization-kubeconfig=${ctx.kubeconfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${String(port)}`,
      `--cert-dir=${certDir}`,
      "--kubelet-insecure-tls",
      `--kubelet-port=${String(spec.port)}`,
      "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
      `--metric-resolution=${String(RESOLUTION_S)}s`,
    ];
    let cmd: string;
    let args: string[];
    let env: NodeJS.ProcessEnv = process.env;
    if (who === "metrics-server") {
      cmd = await ensureMetricsServer((l) => {
        ctx.log(l);
      });
      // -v=1: one "Scrape finished" line per round, with its duration.
      args = [`--kubeconfig=${ctx.kubeconfig}`, ...common, "-v=1"];
    } else {
      const profDir = process.env["BENCH_KUBELET_CPU_PROF"];
      const snapDir = process.env["BENCH_KUBELET_HEAP_SNAPSHOT"];
      const serve = ourServe(
        [
          `--lister-kubeconfig=${ctx.kubeconfig}`,
          `--prometheus-url=${ctx.info.prometheusUrl}`,
          "--disable-custom-metrics",
          "--disable-external-metrics",
          "--metrics-relist-interval=1h",
          "--resource-metrics-source=kubelet",
          ...common,
          // Debug level: one "scraped kubelets" line per round, with its duration.
          "--v=2",
        ],
        {
          nodeArgs: [
            ...(profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : []),
            ...(snapDir ? ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${snapDir}`] : []),
          ],
        },
      );
      cmd = serve.command;
      args = serve.args;
      env = { ...serve.env, ...overlayContainerEnv(KUBELET_ROLE_SIZING) };
    }
    const child: ChildProcess = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env });
    const tail: string[] = [];
    const rounds: Server["rounds"] = [];
    const onLine = (line: string) => {
      tail.push(line.slice(0, 2000));
      if (tail.length > 200) tail.shift();
      if (line.includes("scraped kubelets")) {
        try {
          const l = JSON.parse(line) as { time: number; durationMs: number; scraped: number };
          rounds.push({ at: l.time, ms: l.durationMs, scraped: l.scraped });
        } catch {
          // not a log line of ours
        }
      }
      const m = /"Scrape finished" duration="([^"]+)"/.exec(line);
      if (m) rounds.push({ at: Date.now(), ms: goDurationMs(m[1] ?? "") });
    };
    if (child.stdout) createInterface({ input: child.stdout }).on("line", onLine);
    if (child.stderr) createInterface({ input: child.stderr }).on("line", onLine);
    const server: Server = {
      who,
      port,
      pid: child.pid ?? 0,
      command: `${
        who === "ours"
          ? Object.entries(overlayContainerEnv(KUBELET_ROLE_SIZING))
              .map(([k, v]) => `${k}="${v}" `)
              .join("")
          : ""
      }${[cmd, ...args].join(" ")}`,
      rounds,
      tail: () => tail.join("\n"),
      exited: () =>
        child.exitCode !== null
          ? `exit code ${String(child.exitCode)}`
          : child.signalCode !== null
            ? `signal ${child.signalCode}`
            : undefined,
      async stop() {
        await stopChild(child);
        rmSync(certDir, { recursive: true, force: true });
      },
    };
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const r = await get(port, creds, "/healthz", 5000).catch(() => undefined);
      if (r?.status === 200) return server;
      await sleep(500);
    }
    await server.stop();
    if (attempt < 3 && /address already in use|KCM_ERR_PORT_BUSY/.test(server.tail())) continue;
    throw new Error(`${who} did not become ready:\n${server.tail().slice(-4000)}`);
  }
}

let credsCache: Creds | undefined;
async function frontProxyCreds(ctx: BenchContext): Promise<Creds> {
  credsCache ??= {
    cert: readFileSync(ctx.info.pki.frontProxyClientCert, "utf8"),
    key: readFileSync(ctx.info.pki.frontProxyClientKey, "utf8"),
  };
  return Promise.resolve(credsCache);
}

async function getJson(
  server: Server,
  creds: Creds,
  path: string,
): Promise<{ body: unknown; ms: number }> {
  const t0 = performance.now();
  const res = await get(server.port, creds, path);
  if (res.status !== 200) {
    throw new Error(
      `${server.who}: GET ${path}: HTTP ${String(res.status)}: ${res.text.slice(0, 300)}`,
    );
  }
  return { body: JSON.parse(res.text) as unknown, ms: performance.now() - t0 };
}

interface MetricsList<T> {
  readonly items: T[];
}
interface PodMetricsJson {
  metadata: { name: string; namespace: string };
  containers: { name: string; usage: { cpu: string; memory: string } }[];
}
interface NodeMetricsJson {
  metadata: { name: string };
  usage: { cpu: string; memory: string };
}

/** CPU within 1 µCPU of the synthetic rate (the rate is computed from float counters). */
function cpuOk(got: string, millicores: number): boolean {
  return Math.abs(Quantity.parse(got).toNumber() - millicores / 1000) <= 1e-6;
}

function memOk(got: string, bytes: number): boolean {
  return Quantity.parse(got).toNumber() === bytes;
}

interface Check {
  readonly podListMs: number;
  readonly nodeListMs: number;
  readonly pods: number;
  readonly nodes: number;
}

/**
 * Every PodMetrics and NodeMetrics of one server against the synthetic model. Throws, listing the
 * first mismatches, when a count, a container, a CPU rate or a working set differs.
 */
async function verify(server: Server, creds: Creds, spec: FleetSpec): Promise<Check> {
  const expectedPods = new Map<string, SimPod>();
  for (let i = 0; i < spec.nodes; i++) {
    for (const p of simPods(spec, i)) expectedPods.set(`${p.namespace}/${p.name}`, p);
  }
  const problems: string[] = [];
  const pods = await getJson(server, creds, PODS_PATH).then((r) => ({
    ...r,
    body: r.body as MetricsList<PodMetricsJson>,
  }));
  if (pods.body.items.length !== expectedPods.size) {
    problems.push(
      `pods list: ${String(pods.body.items.length)} PodMetrics, want ${String(expectedPods.size)}`,
    );
  }
  const seen = new Set<string>();
  for (const item of pods.body.items) {
    const key = `${item.metadata.namespace}/${item.metadata.name}`;
    const want = expectedPods.get(key);
    if (!want) {
      problems.push(`unexpected PodMetrics ${key}`);
      continue;
    }
    seen.add(key);
    const names = item.containers.map((c) => c.name).sort();
    const wantNames = want.containers.map((c) => c.name).sort();
    if (names.join(",") !== wantNames.join(",")) {
      problems.push(`${key}: containers ${names.join(",")}, want ${wantNames.join(",")}`);
      continue;
    }
    for (const c of item.containers) {
      const w = want.containers.find((x) => x.name === c.name);
      if (!w) continue;
      if (!cpuOk(c.usage.cpu, w.millicores)) {
        problems.push(`${key}/${c.name}: cpu ${c.usage.cpu}, want ${String(w.millicores)}m`);
      }
      if (!memOk(c.usage.memory, w.memoryBytes)) {
        problems.push(`${key}/${c.name}: memory ${c.usage.memory}, want ${String(w.memoryBytes)}`);
      }
    }
  }
  const missing = [...expectedPods.keys()].filter((k) => !seen.has(k));
  if (missing.length > 0) {
    problems.push(
      `${String(missing.length)} pods without metrics, e.g. ${missing.slice(0, 3).join(", ")}`,
    );
  }
  const nodes = await getJson(server, creds, "/apis/metrics.k8s.io/v1beta1/nodes").then((r) => ({
    ...r,
    body: r.body as MetricsList<NodeMetricsJson>,
  }));
  const byName = new Map(nodes.body.items.map((n) => [n.metadata.name, n]));
  for (let i = 0; i < spec.nodes; i++) {
    const n = byName.get(nodeName(i));
    const want = simNode(spec, i);
    if (!n) {
      problems.push(`no NodeMetrics for ${nodeName(i)}`);
      continue;
    }
    if (!cpuOk(n.usage.cpu, want.millicores)) {
      problems.push(`${nodeName(i)}: cpu ${n.usage.cpu}, want ${String(want.millicores)}m`);
    }
    if (!memOk(n.usage.memory, want.memoryBytes)) {
      problems.push(`${nodeName(i)}: memory ${n.usage.memory}, want ${String(want.memoryBytes)}`);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `${server.who} answered wrong (${String(problems.length)} problems):\n  ${problems.slice(0, 20).join("\n  ")}`,
    );
  }
  return {
    podListMs: pods.ms,
    nodeListMs: nodes.ms,
    pods: pods.body.items.length,
    nodes: byName.size,
  };
}

// ---- one size --------------------------------------------------------------------------------

export interface ServerFigures {
  readonly cpuMillicores: number;
  readonly rssMb: { readonly mean: number; readonly max: number };
  readonly vmHwmMb: number;
  /** Kubelet side, per round: first request in to last response out. */
  readonly kubeletRoundMs: {
    readonly median: number;
    readonly max: number;
    readonly rounds: number;
  };
  /** The server's own log line per round. */
  readonly loggedRoundMs: {
    readonly median: number;
    readonly max: number;
    readonly rounds: number;
  };
  readonly newConnectionsPerRound: number;
  readonly checks: readonly Check[];
  readonly load: readonly LoadResult[];
  /** Ready → first PodMetrics of each new pod, ms (NaN: none within the timeout). */
  readonly firstMetricsMs: readonly number[];
  readonly command: string;
}

export interface SizeResult {
  readonly nodes: number;
  readonly pods: number;
  readonly containers: number;
  readonly windowSeconds: number;
  /** 1-minute load average at the start and end of the window (2-core machine). */
  readonly loadAverage: readonly [number, number];
  readonly servers: Readonly<Record<Who, ServerFigures>>;
}

function median(xs: readonly number[]): number {
  const s = [...xs].filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

function nodeAgentPid(stateDir: string): number {
  try {
    return Number(
      execFileSync("pgrep", ["-n", "-f", `node-agent --state-dir=${stateDir}`], {
        encoding: "utf8",
      }).trim(),
    );
  } catch {
    return 0;
  }
}

async function waitAllNodes(
  servers: readonly Server[],
  creds: Creds,
  spec: FleetSpec,
  log: (l: string) => void,
): Promise<void> {
  const t0 = performance.now();
  const limitMs = 120_000 + spec.nodes * 60;
  await Promise.all(
    servers.map(async (s) => {
      for (;;) {
        const n = await getJson(s, creds, "/apis/metrics.k8s.io/v1beta1/nodes")
          .then((r) => ({ ...r, body: r.body as MetricsList<NodeMetricsJson> }))
          .catch(() => undefined);
        const have = n?.body.items.filter((x) => x.metadata.name.startsWith("bench-kubelet-"));
        if (have && have.length >= spec.nodes) break;
        if (performance.now() - t0 > limitMs) {
          throw new Error(
            `${s.who}: ${String(have?.length ?? 0)} of ${String(spec.nodes)} nodes after ${String(limitMs / 1000)} s\n${s.tail().slice(-3000)}`,
          );
        }
        await sleep(1000);
      }
      log(
        `${s.who}: all nodes have metrics after ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
    }),
  );
}

/**
 * New pods, one every 2.5 s (so they meet the scrape cycle at different phases): each is added to
 * its node's kubelet body with its containers starting now, then created Running and Ready; both
 * servers are polled every 250 ms for its PodMetrics. Returns Ready → first PodMetrics per server.
 */
async function newPods(
  core: k8s.CoreV1Api,
  fleet: RunningFleet,
  servers: readonly Server[],
  creds: Creds,
  spec: FleetSpec,
  count: number,
  log: (l: string) => void,
): Promise<Record<Who, number[]>> {
  const out: Record<Who, number[]> = { ours: [], "metrics-server": [] };
  const made: SimPod[] = [];
  try {
    await Promise.all(
      Array.from({ length: count }, async (_, k) => {
        await sleep(k * NEW_POD_EVERY_MS);
        const i = (k * 37) % spec.nodes;
        const pod: SimPod = {
          namespace: namespaces()[0] ?? "bench-kubelet-0",
          name: `new-${String(spec.nodes)}-${String(k)}`,
          containers: simPod(i, k).containers,
        };
        made.push(pod);
        const start = Date.now();
        await fleet.addPod(i, pod, start);
        await createRunningPod(core, i, pod, new Date(start));
        const ready = Date.now();
        await Promise.all(
          servers.map(async (s) => {
            const path = `/apis/metrics.k8s.io/v1beta1/namespaces/${pod.namespace}/pods/${pod.name}`;
            for (;;) {
              const r = await get(s.port, creds, path, 10_000).catch(() => undefined);
              if (r?.status === 200) {
                out[s.who][k] = Date.now() - ready;
                break;
              }
              if (Date.now() - ready > 6 * RESOLUTION_S * 1000) {
                out[s.who][k] = NaN;
                break;
              }
              await sleep(250);
            }
          }),
        );
        log(
          `new pod ${pod.name}: first metrics after ${WHO.map((w) => `${w} ${String(out[w][k])} ms`).join(", ")}`,
        );
      }),
    );
  } finally {
    for (const p of made) {
      await core
        .deleteNamespacedPod({ name: p.name, namespace: p.namespace, gracePeriodSeconds: 0 })
        .catch(() => undefined);
    }
  }
  return out;
}

/**
 * `p`, unless a server ends first: then an error naming it, with its last log lines (a load
 * generator's requests to a dead server would otherwise wait out their 120 s timeouts, and its
 * HTTP/2 session's close never came back).
 */
async function whileAlive<T>(
  servers: readonly Server[],
  during: string,
  windowSummary: string,
  p: Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      for (const s of servers) {
        const why = s.exited();
        if (why) {
          reject(
            new Error(
              `${s.who} ended (${why}) during ${during}; the window before it measured ${windowSummary}; its last log lines:\n${s.tail().split("\n").slice(-12).join("\n").slice(-3000)}`,
            ),
          );
        }
      }
    }, 500);
  });
  try {
    return await Promise.race([p, ended]);
  } finally {
    clearInterval(timer);
  }
}

async function measureSize(
  ctx: BenchContext,
  core: k8s.CoreV1Api,
  spec: FleetSpec,
  o: { windowS: number; loadS: number; newPodCount: number },
): Promise<SizeResult> {
  const creds = await frontProxyCreds(ctx);
  const agg = await aggregatorCredentials(ctx.info);
  const fleet = await startSyntheticKubelets(spec);
  const servers: Server[] = [];
  try {
    for (const who of WHO) servers.push(await startServer(ctx, who, spec));
    await waitAllNodes(servers, creds, spec, ctx.log);
    const checks = new Map<Who, Check[]>(WHO.map((w) => [w, []]));
    for (const s of servers) checks.get(s.who)?.push(await verify(s, creds, spec));
    // A round for the heaps to settle after the checks.
    await sleep(RESOLUTION_S * 1000);
    const cpu0 = servers.map((s) => cpuSeconds(s.pid));
    const load0 = loadavg()[0] ?? NaN;
    const w0 = Date.now();
    const rss = servers.map(() => [] as number[]);
    ctx.log(`${String(spec.nodes)} nodes: measuring both for ${String(o.windowS)} s`);
    const alive = () => {
      for (const s of servers) {
        const why = s.exited();
        if (why) {
          throw new Error(
            `${s.who} ended (${why}) at ${String(spec.nodes)} nodes; its last log lines:\n${s.tail().split("\n").slice(-12).join("\n").slice(-3000)}`,
          );
        }
      }
    };
    while (Date.now() - w0 < o.windowS * 1000) {
      alive();
      servers.forEach((s, k) => rss[k]?.push(statusKb(s.pid, "VmRSS") / 1024));
      await sleep(Math.min(5000, o.windowS * 1000 - (Date.now() - w0)));
    }
    alive();
    const cpu1 = servers.map((s) => cpuSeconds(s.pid));
    const w1 = Date.now();
    const load1 = loadavg()[0] ?? NaN;
    servers.forEach((s, k) => rss[k]?.push(statusKb(s.pid, "VmRSS") / 1024));
    const ours = servers.find((s) => s.who === "ours");
    const hwm = servers.map((s) => statusKb(s.pid, "VmHWM") / 1024);
    for (const s of servers) ctx.log(await memoryBreakdown(s, creds));
    const snapDir = process.env["BENCH_KUBELET_HEAP_SNAPSHOT"];
    if (snapDir && ours) {
      // Written by ours on SIGUSR2 (--heapsnapshot-signal); the window is measured already.
      process.kill(ours.pid, "SIGUSR2");
      ctx.log(`ours: heap snapshot asked for (${snapDir})`);
      await sleep(30_000);
    }
    for (const s of servers) checks.get(s.who)?.push(await verify(s, creds, spec));
    if (ours?.rounds.some((r) => r.at >= w0 && r.at <= w1 && (r.scraped ?? 0) < spec.nodes)) {
      throw new Error(`ours: a round in the window scraped fewer than ${String(spec.nodes)} nodes`);
    }
    // One question at a time: the fleet's replies are not tagged.
    const observed: ObservedRound[][] = [];
    for (const s of servers) {
      observed.push(
        (await fleet.rounds(SCRAPER[s.who])).filter((r) => r.startMs >= w0 && r.startMs <= w1),
      );
    }
    // The window's figures in the log now: a failure later (a server that ends under load) still
    // leaves them, and they go into its error.
    const windowS = (w1 - w0) / 1000;
    const windowSummary = servers
      .map((s, k) => {
        const mcpu = (((cpu1[k] ?? 0) - (cpu0[k] ?? 0)) / windowS) * 1000;
        const r = rss[k] ?? [];
        const mean = r.reduce((a, b) => a + b, 0) / Math.max(1, r.length);
        return `${s.who} ${mcpu.toFixed(1)} mCPU (${(mcpu / spec.nodes).toFixed(3)} per node), RSS mean ${mean.toFixed(1)} MiB, VmHWM ${(hwm[k] ?? 0).toFixed(1)} MiB`;
      })
      .join("; ");
    ctx.log(`${String(spec.nodes)} nodes, window of ${windowS.toFixed(0)} s: ${windowSummary}`);
    // `/pods` latency, one server at a time (the other keeps scraping).
    const load = new Map<Who, LoadResult[]>(WHO.map((w) => [w, []]));
    for (const s of servers) {
      for (const concurrency of [1, 16]) {
        const r = await whileAlive(
          servers,
          `/pods c=${String(concurrency)} against ${s.who}`,
          windowSummary,
          runLoad(
            {
              origin: `https://127.0.0.1:${String(s.port)}`,
              protocol: "h2",
              tls: agg.tls,
              headers: { ...agg.headers, accept: "application/json" },
            },
            { path: PODS_PATH },
            { concurrency, durationMs: o.loadS * 1000, pid: s.pid, timeoutMs: 120_000 },
          ),
        );
        ctx.log(
          `${s.who} /pods c=${String(concurrency)}: p50 ${r.p50Ms.toFixed(0)} ms, p99 ${r.p99Ms.toFixed(0)} ms, ${String(r.requests)} requests`,
        );
        load.get(s.who)?.push(r);
      }
    }
    const first = await newPods(core, fleet, servers, creds, spec, o.newPodCount, ctx.log);
    const containers = Array.from({ length: spec.nodes }, (_, i) =>
      simPods(spec, i).reduce((a, p) => a + p.containers.length, 0),
    ).reduce((a, b) => a + b, 0);
    const figures = (who: Who): ServerFigures => {
      const k = servers.findIndex((s) => s.who === who);
      const s = servers[k];
      if (!s) throw new Error(`no ${who}`);
      const r = rss[k] ?? [];
      const kube = observed[k] ?? [];
      const logged = s.rounds.filter((x) => x.at >= w0 && x.at <= w1);
      return {
        cpuMillicores: (((cpu1[k] ?? 0) - (cpu0[k] ?? 0)) / ((w1 - w0) / 1000)) * 1000,
        rssMb: { mean: r.reduce((a, b) => a + b, 0) / r.length, max: Math.max(...r) },
        vmHwmMb: hwm[k] ?? NaN,
        kubeletRoundMs: {
          median: median(kube.map((x) => x.endMs - x.startMs)),
          max: Math.max(0, ...kube.map((x) => x.endMs - x.startMs)),
          rounds: kube.length,
        },
        loggedRoundMs: {
          median: median(logged.map((x) => x.ms)),
          max: Math.max(0, ...logged.map((x) => x.ms)),
          rounds: logged.length,
        },
        newConnectionsPerRound: median(kube.map((x) => x.connections)),
        checks: checks.get(who) ?? [],
        load: load.get(who) ?? [],
        firstMetricsMs: first[who],
        command: s.command,
      };
    };
    return {
      nodes: spec.nodes,
      pods: spec.nodes * spec.podsPerNode,
      containers,
      windowSeconds: (w1 - w0) / 1000,
      loadAverage: [load0, load1],
      servers: { ours: figures("ours"), "metrics-server": figures("metrics-server") },
    };
  } finally {
    for (const s of servers) await s.stop();
    await fleet.stop();
  }
}

// ---- report ----------------------------------------------------------------------------------

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : "—");
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "—");
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "—");
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? (a / b).toFixed(2) : "—");

/** What the load averages say of the machine (2 cores; above 2 means others' work queued). */
function loadSentence(loads: readonly number[], machine: readonly string[]): string {
  const shared = loads.some((l) => l > 2);
  return shared
    ? `**The machine was shared and loaded** (2 cores, other work running): ${machine.join("; ")}. Both servers ran in the same windows, so both bore the same load, but absolute figures (CPU, latency, round times) are inflated and noisy; ratios are the more meaningful figures.`
    : `The machine ran little else (2 cores): ${machine.join("; ")}. Both servers ran in the same windows.`;
}

function markdown(results: readonly SizeResult[], note: string, failure: string): string {
  const head = [
    "| |",
    ...results.map(
      (r) => `${r.nodes.toLocaleString("en")} nodes: ours | metrics-server | ours / m-s |`,
    ),
  ].join(" ");
  const sep = `| --- |${results.map(() => " --- | --- | --- |").join("")}`;
  const row = (
    label: string,
    cell: (f: ServerFigures, r: SizeResult) => string,
    value?: (f: ServerFigures, r: SizeResult) => number,
  ) =>
    `| ${label} | ${results
      .map((r) => {
        const o = r.servers.ours;
        const m = r.servers["metrics-server"];
        return `${cell(o, r)} | ${cell(m, r)} | ${value ? ratio(value(o, r), value(m, r)) : ""}`;
      })
      .join(" | ")} |`;
  const lat = (c: number, f: ServerFigures) => f.load.find((l) => l.concurrency === c);
  const rows = [
    head,
    sep,
    row(
      "CPU, total",
      (f) => `${f1(f.cpuMillicores)} mCPU`,
      (f) => f.cpuMillicores,
    ),
    row(
      "CPU per node",
      (f, r) => `${f2(f.cpuMillicores / r.nodes)} mCPU`,
      (f) => f.cpuMillicores,
    ),
    row(
      "RSS total, mean (max)",
      (f) => `${f1(f.rssMb.mean)} (${f1(f.rssMb.max)}) MiB`,
      (f) => f.rssMb.mean,
    ),
    row(
      "RSS per node (mean)",
      (f, r) => `${f2(f.rssMb.mean / r.nodes)} MiB`,
      (f) => f.rssMb.mean,
    ),
    row(
      "VmHWM (peak RSS)",
      (f) => `${f1(f.vmHwmMb)} MiB`,
      (f) => f.vmHwmMb,
    ),
    row(
      "scrape round, kubelet side: median (max), rounds",
      (f) =>
        `${f0(f.kubeletRoundMs.median)} (${f0(f.kubeletRoundMs.max)}) ms, ${String(f.kubeletRoundMs.rounds)}`,
      (f) => f.kubeletRoundMs.median,
    ),
    row(
      "scrape round, own log: median (max)",
      (f) => `${f0(f.loggedRoundMs.median)} (${f0(f.loggedRoundMs.max)}) ms`,
      (f) => f.loggedRoundMs.median,
    ),
    ...[1, 16].flatMap((c) => [
      row(
        `\`/pods\` p50, c=${String(c)}`,
        (f) => `${f0(lat(c, f)?.p50Ms ?? NaN)} ms`,
        (f) => lat(c, f)?.p50Ms ?? NaN,
      ),
      row(
        `\`/pods\` p99, c=${String(c)} (requests)`,
        (f) => `${f0(lat(c, f)?.p99Ms ?? NaN)} ms (${String(lat(c, f)?.requests ?? 0)})`,
        (f) => lat(c, f)?.p99Ms ?? NaN,
      ),
    ]),
    row(
      "new pod, Ready → first PodMetrics: median (each)",
      (f) =>
        `${f1(median(f.firstMetricsMs) / 1000)} s (${f.firstMetricsMs.map((x) => f1(x / 1000)).join(", ")})`,
      (f) => median(f.firstMetricsMs),
    ),
  ];
  const top = results.at(-1);
  const goals: string[] = [];
  if (top) {
    const o = top.servers.ours;
    const m = top.servers["metrics-server"];
    const verdict = (ok: boolean) => (ok ? "**met**" : "**missed**");
    const cpuR = o.cpuMillicores / m.cpuMillicores;
    const memR = o.rssMb.mean / m.rssMb.mean;
    const p50o = lat(1, o)?.p50Ms ?? NaN;
    const p50m = lat(1, m)?.p50Ms ?? NaN;
    const p50o16 = lat(16, o)?.p50Ms ?? NaN;
    const p50m16 = lat(16, m)?.p50Ms ?? NaN;
    const fo = median(o.firstMetricsMs);
    const fm = median(m.firstMetricsMs);
    const n = top.nodes.toLocaleString("en");
    goals.push(
      `CPU per node ≤ 0.5× metrics-server's at ${n} nodes: ${verdict(cpuR <= 0.5)} (${cpuR.toFixed(2)}×)`,
      `Memory (mean RSS) per node ≤ 0.5× metrics-server's at ${n} nodes: ${verdict(memR <= 0.5)} (${memR.toFixed(2)}×)`,
      `\`/pods\` p50 ≤ metrics-server's at ${n} nodes: c=1 ${verdict(p50o <= p50m)} (${f0(p50o)} vs ${f0(p50m)} ms), c=16 ${verdict(p50o16 <= p50m16)} (${f0(p50o16)} vs ${f0(p50m16)} ms)`,
      `A new pod's first metrics no later than with metrics-server at ${n} nodes: ${verdict(fo <= fm)} (median ${f1(fo / 1000)} vs ${f1(fm / 1000)} s over ${String(o.firstMetricsMs.length)} pods)`,
    );
  }
  const machine = results.map(
    (r) =>
      `${r.nodes.toLocaleString("en")} nodes: 1-minute load average ${f1(r.loadAverage[0])} at the window's start, ${f1(r.loadAverage[1])} at its end`,
  );
  const first = results[0];
  return `## Kubelet source vs metrics-server ${METRICS_SERVER_VERSION} (metrics.k8s.io, ${results.map((r) => r.nodes.toLocaleString("en")).join(" and ")} nodes × ${String(first ? first.pods / first.nodes : 0)} pods)

Ours (the compiled adapter with \`--resource-metrics-source=kubelet\`, with the env of ${KUBELET_ROLE_SIZING}: ${Object.entries(
    overlayContainerEnv(KUBELET_ROLE_SIZING),
  )
    .map(([k, v]) => `\`${k}="${v}"\``)
    .join(
      " ",
    )}) and metrics-server ${METRICS_SERVER_VERSION} (built from the Go module proxy) run at the same time against the same synthetic kubelets (each node its own 127.200.x.y and its own HTTPS serving certificate naming only that IP, \`/metrics/resource\` as a kubelet writes it, 30 pods per node, every fifth with a sidecar), with the same flags: \`--metric-resolution=${String(RESOLUTION_S)}s --kubelet-insecure-tls --kubelet-port --kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname\`, delegated authentication and authorization against the local cluster. CPU is utime + stime from /proc over the same ${first ? f0(first.windowSeconds) : "?"} s window for both, after one settling round; RSS sampled every 5 s; per node = total / nodes. Scrape round, kubelet side: first request in to last response out per round, each server's requests told apart by User-Agent (metrics-server spreads its requests over up to 4 s on purpose, its per-node random delay); own log: ours' \`scraped kubelets\` (node list, scrapes, decode, store), metrics-server's \`Scrape finished\`. \`/pods\`: \`GET /apis/metrics.k8s.io/v1beta1/pods\` (every pod), closed loop for the given seconds per cell over one HTTP/2 connection with the front-proxy certificate and an RBAC user, one server loaded at a time while both keep scraping. New pod: its containers appear in its kubelet's body with a start time of now, then the Pod is created Running and Ready; time from Ready to the first 200 for its PodMetrics, both servers polled every 250 ms; pods one every 2.5 s so they meet the scrape cycle at different phases. Every PodMetrics and NodeMetrics of both servers was checked against the synthetic rates before and after the window (count, containers, CPU within 1 µCPU, memory exact). The local node agent was paused (SIGSTOP) for the run: it lists every pod each second, which at 30,000 pods would load the machine more than the servers under test.

${loadSentence(
  results.flatMap((r) => r.loadAverage),
  machine,
)}${note ? ` ${note}` : ""}

${rows.join("\n")}

Goals:

${goals.map((g) => `- ${g}`).join("\n")}
${failure ? `\nThe failed size's error:\n\n\`\`\`\n${failure.slice(0, 3000)}\n\`\`\`\n` : ""}`;
}

export const kubeletSource: Scenario = {
  name: "kubelet",
  async run(ctx) {
    const sizes = (process.env["BENCH_KUBELET_SIZES"] ?? "100,1000")
      .split(",")
      .map(Number)
      .filter((n) => n > 0)
      .sort((a, b) => a - b);
    const podsPerNode = Number(process.env["BENCH_KUBELET_PODS"] ?? 30);
    const windowS = Number(process.env["BENCH_KUBELET_SECONDS"] ?? 60);
    const loadS = Number(process.env["BENCH_KUBELET_LOAD_SECONDS"] ?? 10);
    const newPodCount = Number(process.env["BENCH_KUBELET_NEW_PODS"] ?? 6);
    const portBase = ctx.info.ports.apiserver - 443;
    const base = { podsPerNode, port: portBase + 650, network: "127.200", t0: Date.now() };
    // Both servers run with --kubelet-insecure-tls (the same flags), so any serving certificate
    // does; the kubelets still speak HTTPS, each with its own certificate (its IP only, as a
    // kubelet's), and request client certificates.
    const ca = await createCa("kcm-bench-synthetic-kubelets");
    const tls = { caCertPem: ca.certPem, caKeyPem: ca.keyPem };
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(ctx.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await ensureMetricsReader(ctx.info);
    await ensureMetricsServer((l) => {
      ctx.log(l);
    });
    const agent = nodeAgentPid(ctx.stateDir);
    if (agent) process.kill(agent, "SIGSTOP");
    ctx.log(agent ? `node agent ${String(agent)} paused` : "node agent not found");
    const results: SizeResult[] = [];
    let created = 0;
    const deadlineText = process.env["BENCH_KUBELET_DEADLINE"];
    const deadline = deadlineText ? Date.parse(deadlineText) : Infinity;
    const fallback = Number(process.env["BENCH_KUBELET_FALLBACK"] ?? 0);
    let note = "";
    let failure = "";
    let msPerNode = NaN;
    let measureMs = NaN;
    try {
      for (const wanted of sizes) {
        // Object creation at the rate seen so far, then measurement at 2.5× the last size's (its
        // windows are fixed; waits, checks and answers grow with the size).
        const eta = (n: number) => Date.now() + (n - created) * msPerNode + measureMs * 2.5;
        let nodes = wanted;
        if (eta(nodes) > deadline) {
          const why = `${wanted.toLocaleString("en")} nodes were not run: creating their objects (${(msPerNode / 1000).toFixed(2)} s per node with its pods on this loaded machine) and measuring would have ended after the run's deadline (${deadlineText ?? ""})`;
          if (fallback > created && fallback < wanted && eta(fallback) <= deadline) {
            nodes = fallback;
            note = `${why}; ${fallback.toLocaleString("en")} nodes were run instead.`;
          } else {
            note = `${why}.`;
            break;
          }
          ctx.log(note);
        }
        const spec: FleetSpec = { ...base, nodes, tls };
        const t0 = Date.now();
        await createObjects(core, spec, created, ctx.log);
        msPerNode = (Date.now() - t0) / (nodes - created);
        created = nodes;
        ctx.log(
          `${String(nodes)} nodes: objects ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
        );
        const t1 = Date.now();
        let r: SizeResult;
        try {
          r = await measureSize(ctx, core, spec, { windowS, loadS, newPodCount });
        } catch (e) {
          // Keep the sizes measured so far; say what failed.
          const text = e instanceof Error ? e.message : String(e);
          ctx.log(text);
          note += ` ${nodes.toLocaleString("en")} nodes failed: ${text.split("\n")[0] ?? ""}`;
          failure = text;
          break;
        }
        measureMs = Date.now() - t1;
        results.push(r);
        if (nodes !== wanted) break;
        ctx.log(
          `${String(nodes)} nodes: ${WHO.map((w) => `${w} ${r.servers[w].cpuMillicores.toFixed(1)} mCPU, RSS ${r.servers[w].rssMb.mean.toFixed(1)} MiB`).join("; ")}`,
        );
      }
    } finally {
      if (agent) process.kill(agent, "SIGCONT");
      await deleteObjects(core, ctx.log);
    }
    if (results.length === 0) throw new Error(failure || "kubelet: no size was measured");
    return {
      json: { results, note, failure },
      markdown: markdown(results, note, failure),
    };
  },
};
