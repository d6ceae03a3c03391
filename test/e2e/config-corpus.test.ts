/**
 * @module test/config-corpus
 * A corpus of real-world prometheus-adapter configs (issue #12, item 3): every file in
 * test/fixtures/corpus/ was written by someone else and published (kube-prometheus at several
 * releases, the prometheus-community chart's rendered defaults, prometheus-adapter's own manifests
 * and docs, configs posted in issues, other public repositories); each names its source in its
 * first line and is kept as published.
 *
 * Each config runs through prometheus-adapter v0.12.0 (built from the Go module proxy,
 * test/support/upstream-adapter.ts) and through ours (`serve`), one config at a time, both against
 * the shared local cluster's API server and one real Prometheus backfilled with series of the
 * shapes these configs were written for (cAdvisor with current and pre-1.16 label names,
 * node-exporter, kube-state-metrics, istio, ingress-nginx, `kubernetes_pod_name` relabelling,
 * queues for external metrics). For each side it records whether the adapter starts (becomes
 * ready) and, once its discovery has settled, which custom metrics (`resource/metric`) and external
 * metrics it lists and whether it serves metrics.k8s.io.
 *
 * The assertion: wherever prometheus-adapter starts, ours starts too and lists the same names
 * (as sets, per API group) and serves the same API groups. Where upstream refuses a config,
 * nothing is asserted (ours may refuse it too, or start with warnings).
 *
 * Configs ours refuses today although upstream starts are listed in KNOWN_REFUSED_BY_OURS: they
 * still run and assert the same thing, as `todo` tests, so they are reported without failing the
 * run; once ours is fixed they pass, and the entry is to be removed. The run prints a line per
 * config (`# corpus …` diagnostics); K8SCM_CORPUS_REPORT=<file> also writes every result as JSON,
 * and K8SCM_CORPUS_ONLY=<text> runs only the configs whose file name contains the text.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { startAdapter, type RunningAdapter } from "../support/adapter.ts";
import { testCluster } from "../support/cluster.ts";
import { startPrometheus, type RunningPrometheus } from "../support/prometheus.ts";
import { constantSeries, type ConstantSeries } from "../support/series.ts";
import { startUpstreamAdapter, type RunningUpstream } from "../support/upstream-adapter.ts";

/**
 * Configs prometheus-adapter v0.12.0 starts with and ours refuses today (file name → why). Their
 * tests run as `todo` (each costs up to a minute: ours' readiness timeout). Remove an entry once
 * ours starts with the config and lists what upstream lists.
 */
const KNOWN_REFUSED_BY_OURS = new Map<string, string>([
  // Emptied by a2a0f3f: 09-pa-config-walkthrough-empty-rule.yaml (a rule without seriesQuery made
  // ours' first discovery pass fail, so it never became ready) now starts and lists what upstream
  // lists. Add an entry here, with the reason, for a config ours refuses until it is fixed.
]);

const CORPUS_DIR = fileURLToPath(new URL("../fixtures/corpus/", import.meta.url));
const ALL = readdirSync(CORPUS_DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort();
/** K8SCM_CORPUS_ONLY=<text>: run only the configs whose file name contains it (to iterate on one). */
const ONLY = process.env["K8SCM_CORPUS_ONLY"] ?? "";
const CORPUS = ALL.filter((f) => f.includes(ONLY));

const CM = "/apis/custom.metrics.k8s.io/v1beta1";
const EM = "/apis/external.metrics.k8s.io/v1beta1";
const MK = "/apis/metrics.k8s.io/v1beta1";
/** Short, so discovery settles quickly; series are backfilled around "now", so the age is wide. */
const RELIST = "2s";
const MAX_AGE = "1h";
/** Discovery has settled when it read the same for this long, at least one relist after ready. */
const SETTLE_MS = 2_500;
const SETTLE_MAX_MS = 15_000;
const T = { timeout: 150_000 };
/** Label values only: no object needs to exist for discovery. */
const NS = "corpus-apps";

// ---------------------------------------------------------------------------------------------
// Series: what the configs' seriesQueries were written for

function corpusSeries(node: string): ConstantSeries[] {
  const pod = { namespace: NS, pod: "web-7d4b9c-x2k8p" };
  const legacyPod = { namespace: NS, pod_name: "web-7d4b9c-x2k8p" };
  const kpod = { kubernetes_namespace: NS, kubernetes_pod_name: "api-5c8f7-q9w2e" };
  const istio = {
    destination_service_name: "reviews",
    destination_service_namespace: NS,
    reporter: "destination",
    response_code: "200",
  };
  const ingress = {
    namespace: "ingress-nginx",
    pod: "ingress-nginx-controller-0",
    ingress: "api",
    exported_namespace: NS,
    exported_service: "api",
    status: "200",
  };
  return [
    // cAdvisor (kubelet), current label names; `id="/"` is the node's root cgroup.
    [
      "container_cpu_usage_seconds_total",
      { ...pod, container: "app", id: "/kubepods/pod1/c1", job: "kubelet", node },
      "12.5",
    ],
    [
      "container_cpu_usage_seconds_total",
      { ...pod, container: "POD", id: "/kubepods/pod1/c0", job: "kubelet", node },
      "0.5",
    ],
    ["container_cpu_usage_seconds_total", { id: "/", instance: node, job: "kubelet", node }, "90"],
    ["container_memory_working_set_bytes", { ...pod, container: "app", job: "kubelet" }, "1048576"],
    ["container_memory_working_set_bytes", { id: "/", instance: node, job: "kubelet" }, "2e9"],
    ["container_network_receive_bytes_total", { ...pod, interface: "eth0" }, "4096"],
    ["container_fs_reads_total", { ...pod, container: "app", device: "/dev/vda" }, "7"],
    ["container_spec_cpu_shares", { ...pod, container: "app" }, "2"],
    ["container_cpu_cfs_throttled_seconds_total", { ...pod, container: "app" }, "0.25"],
    // cAdvisor before Kubernetes 1.16: pod_name and container_name.
    [
      "container_cpu_system_seconds_total",
      { ...legacyPod, container_name: "app", id: "/kubepods/pod1/c1" },
      "3",
    ],
    ["container_memory_usage_bytes", { ...legacyPod, container_name: "app" }, "2048"],
    ["container_network_transmit_bytes_total", { ...legacyPod, interface: "eth0" }, "8"],
    ["container_tasks_state", { ...legacyPod, container_name: "app", state: "running" }, "1"],
    // node-exporter and the kube-prometheus recording rules the resourceRules use.
    [
      "node_cpu_seconds_total",
      { instance: node, cpu: "0", mode: "idle", job: "node-exporter" },
      "1e3",
    ],
    ["node_memory_MemTotal_bytes", { instance: node, job: "node-exporter" }, "8e9"],
    ["node_memory_MemAvailable_bytes", { instance: node, job: "node-exporter" }, "4e9"],
    ["node_namespace_pod:kube_pod_info:", { namespace: NS, pod: pod.pod, node }, "1"],
    // kube-state-metrics.
    [
      "kube_deployment_status_replicas",
      { namespace: NS, deployment: "web", job: "kube-state-metrics", instance: "10.0.0.9:8080" },
      "2",
    ],
    // Applications scraped with the usual relabelling (namespace, pod, service, job, ...).
    [
      "http_requests_total",
      { ...pod, service: "web", job: "web", instance: "10.0.0.1:8080", method: "GET" },
      "100",
    ],
    ["http_requests", { ...pod }, "5"],
    ["http_request_duration_seconds_bucket", { ...pod, service: "web", le: "0.5" }, "3"],
    ["process_cpu_seconds_total", { ...pod, job: "web", instance: "10.0.0.1:8080" }, "4"],
    [
      "up",
      { ...pod, job: "web", service: "web", endpoint: "metrics", instance: "10.0.0.1:8080" },
      "1",
    ],
    ["checkout_latency_seconds", { namespace: NS, service: "checkout" }, "0.2"],
    ["nginx_connections_current", { ...pod, state: "active" }, "2"],
    ["custom_metric_counter_total_by_pod", { ...pod }, "9"],
    ["emqx_connections_total", { ...pod }, "30"],
    ["some_metric_count", { ...pod }, "1"],
    ["rabbitmq_queue_length", { namespace: NS, queue: "orders" }, "5"],
    ["work_queue", { namespace: NS }, "3"],
    // The `kubernetes-pods` scrape job of Prometheus' example config.
    ["http_requests_total", { ...kpod, method: "POST" }, "50"],
    ["http_server_requests_seconds_count", { ...kpod, uri: "/api/orders" }, "10"],
    ["http_server_requests_seconds_count", { ...kpod, uri: "/actuator/health" }, "99"],
    ["flink_taskmanager_job_task_operator_KafkaConsumer_records_lag_max", { ...kpod }, "500"],
    // istio and ingress-nginx.
    ["istio_requests_total", istio, "80"],
    ["istio_request_duration_seconds_bucket", { ...istio, le: "0.1" }, "10"],
    ["nginx_ingress_controller_requests", { ...ingress, path: "/auth/login" }, "40"],
    ["nginx_ingress_controller_requests", { ...ingress, path: "/speech" }, "4"],
    ["nginx_ingress_controller_request_duration_seconds_bucket", { ...ingress, le: "0.25" }, "20"],
    // Node-level custom metrics.
    ["cpu_usage_active", { instance: node }, "0.3"],
    ["mem_usage_avg_5m", { instance: node }, "0.5"],
    ["foo_total", { system_name: node }, "3"],
    // Outside Kubernetes (external metrics).
    ["queue_consumer_lag", { name: "orders", namespace: NS }, "7"],
    ["queue_depth", { name: "mail", topic: "mail", namespace: "queues" }, "4"],
    ["external_queue_messages_ready", { namespace: NS, service: "rabbitmq", queue: "q1" }, "11"],
    [
      "logging_googleapis_com:byte_count",
      { monitored_resource: "k8s_cluster", cluster_name: "c1" },
      "1000",
    ],
    ["kubeznn_latency_95p", { job: "znn" }, "0.3"],
    ["cheddar", { sharp: "true", brand: "tillamook" }, "1"],
  ];
}

// ---------------------------------------------------------------------------------------------
// One side's outcome

interface Listing {
  /** `resource/metric` of custom.metrics.k8s.io/v1beta1, or null when the group is not served. */
  readonly custom: readonly string[] | null;
  /** External metric names, or null when the group is not served. */
  readonly external: readonly string[] | null;
  /** Whether metrics.k8s.io/v1beta1 is served. */
  readonly resourceMetrics: boolean;
}

interface Outcome {
  readonly started: boolean;
  /** Why it did not start: its log line saying so. */
  readonly error?: string;
  readonly listing?: Listing;
  /** Start plus settling, in ms. */
  readonly ms: number;
}

interface Result {
  readonly file: string;
  readonly source: string;
  readonly upstream: Outcome;
  readonly ours: Outcome;
}

const results: Result[] = [];

/** `(path) => [status, body text]`: both adapters are read through this. */
type Get = (path: string) => Promise<readonly [number, string]>;

function names(status: number, text: string, path: string): readonly string[] | null {
  if (status === 404) return null;
  if (status !== 200) throw new Error(`GET ${path}: ${String(status)} ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as { resources?: { name: string }[] };
  return (body.resources ?? []).map((r) => r.name).sort();
}

async function readListing(get: Get): Promise<Listing> {
  const [[cs, ct], [es, et], [ms]] = await Promise.all([get(CM), get(EM), get(MK)]);
  return {
    custom: names(cs, ct, CM),
    external: names(es, et, EM),
    resourceMetrics: ms === 200,
  };
}

/**
 * The first reading once the adapter authenticates its caller: prometheus-adapter loads the
 * front-proxy CA from kube-system/extension-apiserver-authentication in the background, so for a
 * moment after /readyz it answers 403 to `system:anonymous`.
 */
async function firstListing(get: Get): Promise<Listing> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [status] = await get(CM);
    if ((status !== 401 && status !== 403) || Date.now() > deadline) return readListing(get);
    await sleep(200);
  }
}

/**
 * Reads discovery until it has stayed the same for SETTLE_MS (upstream's first relist runs in the
 * background after start; a relist failure leaves its list empty) and returns the last reading.
 */
async function settledListing(get: Get): Promise<Listing> {
  const start = Date.now();
  let last = await firstListing(get);
  let since = Date.now();
  while (Date.now() - start < SETTLE_MAX_MS) {
    await sleep(400);
    const next = await readListing(get);
    if (JSON.stringify(next) !== JSON.stringify(last)) {
      last = next;
      since = Date.now();
    } else if (Date.now() - since >= SETTLE_MS) {
      break;
    }
  }
  return last;
}

/**
 * The klog line of a fatal error (`F…`, with the indented lines that continue it), else the first
 * error line (`E…`), else the last line.
 */
function upstreamReason(log: string): string {
  const lines = log.split("\n").filter((l) => l.trim() !== "");
  const fatal = lines.findIndex((l) => /^F\d{4} /.test(l));
  let line: string;
  if (fatal >= 0) {
    const rest = lines.slice(fatal + 1);
    const end = rest.findIndex((l) => !/^\s/.test(l));
    const more = rest.slice(0, end === -1 ? rest.length : end);
    line = [lines[fatal] ?? "", ...more.map((l) => l.trim())].join(" ");
  } else {
    line = lines.find((l) => /^E\d{4} /.test(l)) ?? lines.at(-1) ?? "no output";
  }
  return line.length > 600 ? `${line.slice(0, 600)}…` : line;
}

/**
 * The line naming a KCM_ERR code, else the message (and `err`) of the last error-level JSON log
 * line.
 */
function oursReason(log: string): string {
  const lines = log.split("\n").filter((l) => l.trim() !== "");
  let line = lines.find((l) => l.includes("KCM_ERR"));
  if (line === undefined) {
    for (const l of lines) {
      try {
        const j = JSON.parse(l) as { level?: number; msg?: string; err?: unknown };
        if ((j.level ?? 0) >= 50 && j.msg !== undefined) {
          line = j.err === undefined ? j.msg : `${j.msg}: ${JSON.stringify(j.err)}`;
        }
      } catch {
        // Not JSON.
      }
    }
  }
  line ??= lines.at(-1) ?? "no output";
  return line.length > 600 ? `${line.slice(0, 600)}…` : line;
}

async function runUpstream(info: ClusterInfo, promUrl: string, config: string): Promise<Outcome> {
  const t0 = Date.now();
  let up: RunningUpstream;
  try {
    up = await startUpstreamAdapter({
      info,
      prometheusUrl: promUrl,
      config,
      relistInterval: RELIST,
      maxAge: MAX_AGE,
    });
  } catch (e) {
    return { started: false, error: upstreamReason(String(e)), ms: Date.now() - t0 };
  }
  try {
    const listing = await settledListing(async (path) => {
      const r = await up.get(path);
      return [r.status, r.text] as const;
    });
    return { started: true, listing, ms: Date.now() - t0 };
  } finally {
    await up.stop();
  }
}

async function runOurs(info: ClusterInfo, promUrl: string, config: string): Promise<Outcome> {
  const t0 = Date.now();
  let ours: RunningAdapter;
  try {
    ours = await startAdapter({
      prometheusUrl: promUrl,
      kubeconfig: info.kubeconfig,
      config,
      relistInterval: RELIST,
      maxAge: MAX_AGE,
    });
  } catch (e) {
    return { started: false, error: oursReason(String(e)), ms: Date.now() - t0 };
  }
  try {
    const listing = await settledListing(async (path) => {
      const res = await fetch(`${ours.url}${path}`, { signal: AbortSignal.timeout(20_000) });
      return [res.status, await res.text()] as const;
    });
    return { started: true, listing, ms: Date.now() - t0 };
  } finally {
    await ours.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting

function setDiff(a: readonly string[], b: readonly string[]): string[] {
  const s = new Set(b);
  return a.filter((x) => !s.has(x));
}

function describeListing(l: Listing): string {
  const n = (x: readonly string[] | null) => (x === null ? "not served" : String(x.length));
  return `custom ${n(l.custom)}, external ${n(l.external)}, metrics.k8s.io ${l.resourceMetrics ? "served" : "not served"}`;
}

function describeOutcome(o: Outcome): string {
  if (!o.started) return `refused: ${o.error ?? "?"}`;
  return o.listing === undefined ? "started" : `started; ${describeListing(o.listing)}`;
}

/** The differences of ours from upstream, one line each (empty: the same). */
function differences(up: Listing, ours: Listing): string[] {
  const out: string[] = [];
  for (const [group, u, o] of [
    ["custom", up.custom, ours.custom],
    ["external", up.external, ours.external],
  ] as const) {
    if (u === null || o === null) {
      if (u !== o) {
        out.push(
          `${group}: upstream ${u === null ? "does not serve it" : "serves it"}, ours ${o === null ? "does not" : "does"}`,
        );
      }
      continue;
    }
    const missing = setDiff(u, o);
    const extra = setDiff(o, u);
    if (missing.length > 0) out.push(`${group}: ours lacks ${missing.join(", ")}`);
    if (extra.length > 0) out.push(`${group}: ours also lists ${extra.join(", ")}`);
  }
  if (up.resourceMetrics !== ours.resourceMetrics) {
    out.push(
      `metrics.k8s.io: upstream ${up.resourceMetrics ? "serves" : "does not serve"} it, ours ${ours.resourceMetrics ? "does" : "does not"}`,
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

describe("real-world prometheus-adapter configs: where upstream starts, ours starts and lists the same", () => {
  let info: ClusterInfo;
  let prom: RunningPrometheus;

  before(async () => {
    info = await testCluster();
    prom = await startPrometheus({ openMetrics: constantSeries(corpusSeries(info.nodeName)) });
  });

  after(async () => {
    await prom.stop();
    const report = process.env["K8SCM_CORPUS_REPORT"];
    if (report !== undefined && report !== "") {
      writeFileSync(report, `${JSON.stringify(results, null, 2)}\n`);
    }
  });

  test("the corpus has at least 25 configs, each naming its source", () => {
    assert.ok(ALL.length >= 25, `${String(ALL.length)} configs`);
    for (const f of ALL) {
      assert.match(readFileSync(`${CORPUS_DIR}${f}`, "utf8"), /^# source: \S+/, f);
    }
    for (const f of KNOWN_REFUSED_BY_OURS.keys()) {
      assert.ok(ALL.includes(f), `KNOWN_REFUSED_BY_OURS names ${f}, which is not in the corpus`);
    }
  });

  for (const file of CORPUS) {
    const known = KNOWN_REFUSED_BY_OURS.get(file);
    const opts = known === undefined ? T : { ...T, todo: `known: ours refuses it (${known})` };
    test(file, opts, async (t) => {
      const config = `${CORPUS_DIR}${file}`;
      const source = readFileSync(config, "utf8")
        .split("\n", 1)[0]
        ?.replace(/^# source: /, "");
      // One config at a time, both adapters side by side: each reads the same Prometheus.
      const [u, o] = await Promise.allSettled([
        runUpstream(info, prom.url, config),
        runOurs(info, prom.url, config),
      ]);
      // Both have stopped their process either way; a reading that failed fails the test.
      if (u.status === "rejected") throw u.reason;
      if (o.status === "rejected") throw o.reason;
      const [upstream, ours] = [u.value, o.value];
      results.push({ file, source: source ?? "", upstream, ours });
      t.diagnostic(
        `corpus ${file} | upstream: ${describeOutcome(upstream)} | ours: ${describeOutcome(ours)}`,
      );
      if (!upstream.started) return;
      assert.ok(
        ours.started,
        `upstream starts with ${file}; ours refuses it: ${ours.error ?? "?"}`,
      );
      assert.ok(upstream.listing !== undefined && ours.listing !== undefined);
      const diff = differences(upstream.listing, ours.listing);
      for (const d of diff) t.diagnostic(`corpus ${file} | ${d}`);
      assert.deepEqual(
        diff,
        [],
        `${file}: ours lists otherwise than upstream:\n${diff.join("\n")}`,
      );
    });
  }
});
