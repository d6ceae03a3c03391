/**
 * @module bench/kubelet-source
 * The kubelet source of metrics.k8s.io (`--resource-metrics-source=kubelet`) at 100 nodes × 30
 * pods: synthetic kubelets on loopback (bench/support/synthetic-kubelets.ts, a child process), 100
 * Node and 3000 Pod objects in the local API server bound to those nodes, and our compiled adapter
 * scraping them at the default 15 s resolution. Measured from /proc: the adapter's CPU (utime +
 * stime over a steady window), RSS and VmHWM, total and per node, plus the scrape duration of each
 * round. The adapter's answers are checked while it runs: every PodMetrics and NodeMetrics, with
 * the CPU rates and working sets the synthetic counters were built with; any mismatch fails the
 * scenario. Compared with metrics-server's published sizing (about 1 mCPU and 2 MB per node),
 * which is quoted, not measured here.
 *
 * Knobs: BENCH_KUBELET_NODES (100), BENCH_KUBELET_PODS (30 per node), BENCH_KUBELET_SECONDS (120,
 * the measured window), BENCH_KUBELET_SCHEMES (https,http), BENCH_KUBELET_CPU_PROF (a directory:
 * the adapter runs with --cpu-prof and writes its profile there on exit).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import * as k8s from "@kubernetes/client-node";
import { Quantity } from "../src/apimachinery/quantity.ts";
import { issue, loadCa } from "../src/pki/pki.ts";
import { freePort } from "../test/support/prometheus.ts";
import { stopChild } from "../test/support/process.ts";
import type { BenchContext, Scenario } from "./scenario.ts";
import { ourServe } from "./support/deployed.ts";
import {
  namespaces,
  nodeIp,
  nodeName,
  simNode,
  simPods,
  startSyntheticKubelets,
  type FleetSpec,
  type SimPod,
} from "./support/synthetic-kubelets.ts";

const RESOLUTION_S = 15;
/** metrics-server's README: "1 mili core of CPU and 2 MB of memory for each node in a cluster". */
const METRICS_SERVER_MCPU_PER_NODE = 1;
const METRICS_SERVER_MB_PER_NODE = 2;
const SYNTHETIC_LABEL = "k8s-custom-metrics.bench/synthetic-kubelet";

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

/** 100 Nodes and 3000 Running Pods bound to them (so the local node agent leaves them alone). */
async function createObjects(
  core: k8s.CoreV1Api,
  spec: FleetSpec,
  log: (l: string) => void,
): Promise<void> {
  for (const ns of namespaces()) {
    await core.createNamespace({ body: { metadata: { name: ns } } });
  }
  const indexes = Array.from({ length: spec.nodes }, (_, i) => i);
  await pool(indexes, 8, async (i) => {
    const created = await core.createNode({ body: nodeObject(spec, i) });
    // The API server may drop status on create; set it through the status subresource.
    const status = nodeObject(spec, i).status;
    if (status) created.status = status;
    await core.replaceNodeStatus({ name: nodeName(i), body: created });
  });
  log(`created ${String(spec.nodes)} nodes`);
  const pods = indexes.flatMap((i) => simPods(spec, i).map((p) => ({ i, p })));
  const started = new Date(spec.t0 - 3_600_000);
  await pool(pods, 16, async ({ i, p }) => {
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
    await core.replaceNamespacedPodStatus({
      name: p.name,
      namespace: p.namespace,
      body: created,
    });
  });
  log(`created ${String(pods.length)} running pods`);
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

// ---- the adapter -----------------------------------------------------------------------------

interface Adapter {
  readonly child: ChildProcess;
  readonly url: string;
  /** "scraped kubelets" log lines: when, and how long the round took. */
  readonly rounds: { at: number; durationMs: number; nodes: number; scraped: number }[];
}

async function startAdapter(
  ctx: BenchContext,
  spec: FleetSpec,
  scheme: "http" | "https",
): Promise<Adapter> {
  const port = await freePort();
  const profDir = process.env["BENCH_KUBELET_CPU_PROF"];
  // As the image starts it (support/deployed.ts), from what bench/run.ts builds.
  const serve = ourServe(
    [
      `--lister-kubeconfig=${ctx.kubeconfig}`,
      `--insecure-http-port=${String(port)}`,
      `--prometheus-url=${ctx.info.prometheusUrl}`,
      "--disable-custom-metrics",
      "--disable-external-metrics",
      "--metrics-relist-interval=1h",
      "--resource-metrics-source=kubelet",
      `--metric-resolution=${String(RESOLUTION_S)}s`,
      `--kubelet-port=${String(spec.port)}`,
      `--kubelet-scheme=${scheme}`,
      // Debug level: one "scraped kubelets" line per round, with its duration.
      "--v=2",
    ],
    { nodeArgs: profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [] },
  );
  const child = spawn(serve.command, serve.args, {
    stdio: ["ignore", "pipe", "inherit"],
    env: serve.env,
  });
  const adapter: Adapter = { child, url: `http://127.0.0.1:${String(port)}`, rounds: [] };
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (!line.includes("scraped kubelets")) return;
    try {
      const l = JSON.parse(line) as {
        time: number;
        durationMs: number;
        nodes: number;
        scraped: number;
      };
      adapter.rounds.push({
        at: l.time,
        durationMs: l.durationMs,
        nodes: l.nodes,
        scraped: l.scraped,
      });
    } catch {
      // not a log line of ours
    }
  });
  return adapter;
}

async function getJson(url: string): Promise<{ body: unknown; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  if (res.status !== 200)
    throw new Error(`GET ${url}: HTTP ${String(res.status)}: ${text.slice(0, 300)}`);
  return { body: JSON.parse(text) as unknown, ms: performance.now() - t0 };
}

interface MetricsList<T> {
  readonly items: T[];
}
interface PodMetricsJson {
  metadata: { name: string; namespace: string };
  timestamp: string;
  window: string;
  containers: { name: string; usage: { cpu: string; memory: string } }[];
}
interface NodeMetricsJson {
  metadata: { name: string };
  timestamp: string;
  window: string;
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
 * Every PodMetrics and NodeMetrics against the synthetic model. Throws, listing the first
 * mismatches, when a count, a container, a CPU rate or a working set differs.
 */
async function verify(url: string, spec: FleetSpec): Promise<Check> {
  const expectedPods = new Map<string, SimPod>();
  for (let i = 0; i < spec.nodes; i++) {
    for (const p of simPods(spec, i)) expectedPods.set(`${p.namespace}/${p.name}`, p);
  }
  const problems: string[] = [];
  const pods = await getJson(`${url}/apis/metrics.k8s.io/v1beta1/pods`).then((r) => ({
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
  const nodes = await getJson(`${url}/apis/metrics.k8s.io/v1beta1/nodes`).then((r) => ({
    ...r,
    body: r.body as MetricsList<NodeMetricsJson>,
  }));
  if (nodes.body.items.length !== spec.nodes) {
    problems.push(
      `nodes list: ${String(nodes.body.items.length)} NodeMetrics, want ${String(spec.nodes)}`,
    );
  }
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
      `kubelet source answered wrong (${String(problems.length)} problems):\n  ${problems.slice(0, 20).join("\n  ")}`,
    );
  }
  return {
    podListMs: pods.ms,
    nodeListMs: nodes.ms,
    pods: pods.body.items.length,
    nodes: nodes.body.items.length,
  };
}

// ---- one measured run ------------------------------------------------------------------------

export interface KubeletRunResult {
  /** "https" / "http" with the synthetic fleet, or "idle" (no synthetic nodes). */
  readonly variant: string;
  readonly nodes: number;
  readonly pods: number;
  readonly containers: number;
  readonly windowSeconds: number;
  readonly cpuMillicores: number;
  readonly rssMb: { readonly mean: number; readonly max: number };
  readonly vmHwmMb: number;
  /** Adapter-side round (list nodes, scrape all, decode, store), from its debug log. */
  readonly roundMs: { readonly median: number; readonly max: number; readonly rounds: number };
  /** Kubelet-side: first request in to last response out, per round. */
  readonly kubeletSpanMs: { readonly median: number; readonly max: number };
  readonly bytesPerRound: number;
  /** New connections per round (kubelet side): 0 when keep-alive works. */
  readonly connectionsPerRound: number;
  readonly checks: readonly Check[];
  /** The local node agent's CPU over the same window (it lists every pod each second). */
  readonly nodeAgentMillicores: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
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

async function measure(
  ctx: BenchContext,
  spec: FleetSpec,
  variant: "http" | "https" | "idle",
  windowS: number,
): Promise<KubeletRunResult> {
  const scheme = variant === "idle" ? "http" : variant;
  const fleet =
    variant === "idle"
      ? undefined
      : await startSyntheticKubelets(scheme === "https" ? spec : { ...spec, tls: undefined });
  const adapter = await startAdapter(ctx, spec, scheme);
  const pid = adapter.child.pid ?? 0;
  try {
    const checks: Check[] = [];
    const t0 = performance.now();
    if (variant !== "idle") {
      // Complete answers need two rounds per node (CPU is a rate).
      for (;;) {
        const n = await getJson(`${adapter.url}/apis/metrics.k8s.io/v1beta1/nodes`)
          .then((r) => ({ ...r, body: r.body as MetricsList<NodeMetricsJson> }))
          .catch(() => undefined);
        if (n && n.body.items.length >= spec.nodes) break;
        if (performance.now() - t0 > 120_000) {
          throw new Error(
            `kubelet source: ${String(n?.body.items.length ?? 0)} of ${String(spec.nodes)} nodes after 120 s`,
          );
        }
        await sleep(1000);
      }
      ctx.log(
        `${variant}: all nodes have metrics after ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      checks.push(await verify(adapter.url, spec));
    }
    // Let the heap settle over a few rounds before the window.
    await sleep(3 * RESOLUTION_S * 1000);
    const agent = nodeAgentPid(ctx.stateDir);
    const agentCpu0 = agent ? cpuSeconds(agent) : 0;
    const cpu0 = cpuSeconds(pid);
    const w0 = Date.now();
    const rss: number[] = [];
    ctx.log(`${variant}: measuring for ${String(windowS)} s`);
    while (Date.now() - w0 < windowS * 1000) {
      rss.push(statusKb(pid, "VmRSS") / 1024);
      await sleep(Math.min(5000, windowS * 1000 - (Date.now() - w0)));
    }
    const cpu1 = cpuSeconds(pid);
    const agentCpu1 = agent ? cpuSeconds(agent) : 0;
    const w1 = Date.now();
    rss.push(statusKb(pid, "VmRSS") / 1024);
    const vmHwmMb = statusKb(pid, "VmHWM") / 1024;
    if (variant !== "idle") checks.push(await verify(adapter.url, spec));
    const inWindow = adapter.rounds.filter((r) => r.at >= w0 && r.at <= w1);
    const observed = ((await fleet?.rounds()) ?? []).filter(
      (r) => r.startMs >= w0 && r.startMs <= w1,
    );
    if (variant !== "idle" && inWindow.some((r) => r.scraped < spec.nodes)) {
      throw new Error(
        `kubelet source: a round in the window scraped fewer than ${String(spec.nodes)} nodes`,
      );
    }
    const containers = Array.from({ length: spec.nodes }, (_, i) =>
      simPods(spec, i).reduce((a, p) => a + p.containers.length, 0),
    ).reduce((a, b) => a + b, 0);
    return {
      variant,
      nodes: variant === "idle" ? 0 : spec.nodes,
      pods: variant === "idle" ? 0 : spec.nodes * spec.podsPerNode,
      containers: variant === "idle" ? 0 : containers,
      windowSeconds: (w1 - w0) / 1000,
      cpuMillicores: ((cpu1 - cpu0) / ((w1 - w0) / 1000)) * 1000,
      rssMb: { mean: rss.reduce((a, b) => a + b, 0) / rss.length, max: Math.max(...rss) },
      vmHwmMb,
      roundMs: {
        median: median(inWindow.map((r) => r.durationMs)),
        max: Math.max(...inWindow.map((r) => r.durationMs)),
        rounds: inWindow.length,
      },
      kubeletSpanMs: {
        median: median(observed.map((r) => r.endMs - r.startMs)),
        max: Math.max(0, ...observed.map((r) => r.endMs - r.startMs)),
      },
      bytesPerRound: median(observed.map((r) => r.bytes)),
      connectionsPerRound: median(observed.map((r) => r.connections)),
      checks,
      nodeAgentMillicores: agent ? ((agentCpu1 - agentCpu0) / ((w1 - w0) / 1000)) * 1000 : NaN,
    };
  } finally {
    await stopChild(adapter.child);
    await fleet?.stop();
  }
}

// ---- report ----------------------------------------------------------------------------------

function markdown(results: readonly KubeletRunResult[], spec: FleetSpec): string {
  const idle = results.find((r) => r.variant === "idle");
  const rows = [
    "| run | nodes / pods / containers | CPU total | CPU per node | RSS total (mean / max) | RSS per node | VmHWM | scrape round (median / max) | metrics-server, published, per node |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of results) {
    const perNode = r.nodes > 0;
    const n = Math.max(1, r.nodes);
    rows.push(
      `| ${r.variant === "idle" ? "idle (no synthetic nodes)" : `${r.variant.toUpperCase()} kubelets`} | ${String(r.nodes)} / ${String(r.pods)} / ${String(r.containers)} | ${r.cpuMillicores.toFixed(1)} mCPU | ${perNode ? `${(r.cpuMillicores / n).toFixed(2)} mCPU` : "—"} | ${r.rssMb.mean.toFixed(1)} / ${r.rssMb.max.toFixed(1)} MB | ${perNode ? `${(r.rssMb.mean / n).toFixed(2)} MB` : "—"} | ${r.vmHwmMb.toFixed(1)} MB | ${perNode ? `${r.roundMs.median.toFixed(0)} / ${r.roundMs.max.toFixed(0)} ms` : "—"} | ${perNode ? `~${String(METRICS_SERVER_MCPU_PER_NODE)} mCPU, ~${String(METRICS_SERVER_MB_PER_NODE)} MB` : "—"} |`,
    );
  }
  const loaded = results.filter((r) => r.variant !== "idle");
  const marginal = idle
    ? loaded.map(
        (r) =>
          `${r.variant.toUpperCase()}: ${((r.cpuMillicores - idle.cpuMillicores) / r.nodes).toFixed(2)} mCPU and ${((r.rssMb.mean - idle.rssMb.mean) / r.nodes).toFixed(2)} MB per node above idle`,
      )
    : [];
  const ratios = loaded.map(
    (r) =>
      `${r.variant.toUpperCase()}, ours / metrics-server's published figure, per node: CPU ${(r.cpuMillicores / r.nodes / METRICS_SERVER_MCPU_PER_NODE).toFixed(2)}, memory (mean RSS) ${(r.rssMb.mean / r.nodes / METRICS_SERVER_MB_PER_NODE).toFixed(2)}`,
  );
  const first = loaded[0];
  const details = loaded.map(
    (r) =>
      `${r.variant.toUpperCase()}: ${String(r.roundMs.rounds)} rounds in the window; kubelet side, first request to last response ${r.kubeletSpanMs.median.toFixed(0)} ms median (${r.kubeletSpanMs.max.toFixed(0)} max); ${(r.bytesPerRound / 1e6).toFixed(2)} MB of text and ${String(r.connectionsPerRound)} new connections per round (median); \`/pods\` (${String(r.checks[0]?.pods ?? 0)} PodMetrics) answered in ${(r.checks.at(-1)?.podListMs ?? NaN).toFixed(0)} ms, \`/nodes\` in ${(r.checks.at(-1)?.nodeListMs ?? NaN).toFixed(0)} ms; local node agent meanwhile ${r.nodeAgentMillicores.toFixed(0)} mCPU`,
  );
  return `## Kubelet source (metrics.k8s.io, ${String(spec.nodes)} nodes × ${String(spec.podsPerNode)} pods)

Our compiled adapter with \`--resource-metrics-source=kubelet\` at the default ${String(RESOLUTION_S)} s resolution scrapes ${String(spec.nodes)} synthetic kubelets on loopback (each its own 127.200.x.y, \`/metrics/resource\` as a kubelet writes it, ${String(first?.containers ?? 0)} containers in ${String(first?.pods ?? 0)} pods). CPU is utime + stime from /proc over ${first?.windowSeconds.toFixed(0) ?? "?"} s of steady scraping after three warm-up rounds; RSS sampled every 5 s; per node = total / nodes. Scrape round = the adapter's own timing of one round (list nodes, scrape all in parallel, decode, store). Every PodMetrics and NodeMetrics was checked against the synthetic rates before and after the window (count, containers, CPU within 1 µCPU, memory exact). metrics-server's figure is its published sizing ("1 mili core of CPU and 2 MB of memory for each node"), not measured here.

${rows.join("\n")}

${[...ratios, ...marginal, ...details].map((l) => `- ${l}`).join("\n")}
`;
}

export const kubeletSource: Scenario = {
  name: "kubelet",
  async run(ctx) {
    const nodes = Number(process.env["BENCH_KUBELET_NODES"] ?? 100);
    const podsPerNode = Number(process.env["BENCH_KUBELET_PODS"] ?? 30);
    const windowS = Number(process.env["BENCH_KUBELET_SECONDS"] ?? 120);
    const schemes = (process.env["BENCH_KUBELET_SCHEMES"] ?? "https,http")
      .split(",")
      .filter((s): s is "http" | "https" => s === "http" || s === "https");
    const portBase = ctx.info.ports.apiserver - 443;
    const ca = await loadCa(
      readFileSync(ctx.info.pki.caCert, "utf8"),
      readFileSync(ctx.info.pki.caKey, "utf8"),
    );
    const base = { nodes, podsPerNode, port: portBase + 650, network: "127.200", t0: Date.now() };
    const ips = Array.from({ length: nodes }, (_, i) => nodeIp(base, i));
    // Signed by the cluster CA, which the adapter trusts through its kubeconfig: full verification.
    const tls = await issue(ca, {
      commonName: "synthetic-kubelets",
      ipAddresses: ips,
      usage: "server",
    });
    const spec: FleetSpec = { ...base, tls };
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(ctx.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const results: KubeletRunResult[] = [];
    try {
      ctx.log("idle baseline (no synthetic nodes yet)");
      results.push(await measure(ctx, spec, "idle", Math.min(60, windowS)));
      await createObjects(core, spec, ctx.log);
      for (const scheme of schemes) {
        const r = await measure(ctx, spec, scheme, windowS);
        ctx.log(
          `${scheme}: ${r.cpuMillicores.toFixed(1)} mCPU, RSS ${r.rssMb.mean.toFixed(1)} MB, VmHWM ${r.vmHwmMb.toFixed(1)} MB, round ${r.roundMs.median.toFixed(0)} ms`,
        );
        results.push(r);
      }
    } finally {
      await deleteObjects(core, ctx.log);
    }
    return { json: results, markdown: markdown(results, spec) };
  },
};
