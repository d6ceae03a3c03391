/**
 * @module bench/fleet
 * The HPA fleet (issue #7, part 3): 1,000 HPAs' worth of custom-metrics requests at the HPA
 * controller's 15 s cadence, against our adapter (query grouping on, and off) and
 * prometheus-adapter v0.12.0, one after the other, with the same config, Prometheus, API server
 * and delegated authentication and authorization (bench/support/adapters.ts).
 *
 * Fleet: 100 namespaces × 10 Deployments, 2 Pods each (Pod objects bound to a node that does not
 * exist, so the node agent never runs them), series for every pod in a backfilled Prometheus.
 * HPA (n, d) targets Deployment d of namespace n: d = 9 on an Object metric (the namespace's
 * `frontend` Service), the others on one of three Pods metrics (`pods/*` with the Deployment's
 * label selector, as the HPA controller asks: custom.metrics.k8s.io v1beta2).
 *
 * Arrival: each HPA is synced once per 15 s and has its own phase in the period (a seeded shuffle
 * spreads the 1,000 HPAs evenly over 15 phases, metrics mixed); the controller's resync makes all
 * HPAs of a phase due at once, so every second the ~67 HPAs of that second's phase send their
 * request together, open loop (a burst goes out on time whether or not earlier answers are back),
 * over one HTTP/2 connection with the front-proxy client certificate, as the aggregator does. One
 * unmeasured cycle warms up; then BENCH_FLEET_CYCLES (default 2) cycles are measured.
 *
 * Reported per adapter: Prometheus queries sent during the measured cycles (a recording proxy in
 * front of Prometheus, per adapter), queries per HPA request, SubjectAccessReviews per burst
 * (kube-apiserver's own count during the measured cycles), latency p50/p99/max of the requests
 * answered correctly, requests turned away with 429 (the in-flight limit), errors (any other
 * status or a wrong item count), adapter CPU; and the ratio ours/upstream.
 *
 * `fleet-10k` (issue #17 item 4): the same at 1,000 namespaces (10,000 HPAs, ~667 requests a
 * second), upstream, ours with grouping off, ours, and ours without the in-flight limit (each
 * burst is above the default 400); also requests answered within the period and the most requests
 * outstanding at a burst (upstream's queue when it cannot keep up).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Pool } from "undici";
import { subjectAccessReviewsCreated } from "../test/support/apiserver-metrics.ts";
import { httpsGet } from "../test/support/http.ts";
import { startPrometheus } from "../test/support/prometheus.ts";
import {
  aggregatorCredentials,
  ensureMetricsReader,
  startAdapter,
  waitForOk,
  type AggregatorCredentials,
  type RunningBenchAdapter,
} from "./support/adapters.ts";
import {
  binV8Flags,
  deployedNodeOptions,
  deployedSentence,
  memoryBaseline,
  RSS_GOAL_MIB,
} from "./support/deployed.ts";
import { adminPool, NOWHERE_NODE } from "./support/fixtures.ts";
import { runFleetBursts, type FleetRequest } from "./support/fleet-client.ts";
import type { BenchContext, Scenario, ScenarioResult } from "./scenario.ts";

const DEPLOYMENTS = 10;
const PODS_PER_DEPLOYMENT = Number(process.env["BENCH_FLEET_PODS_PER_DEPLOYMENT"] ?? "2");
const PERIOD_S = 15;
const CYCLES = Math.max(2, Number(process.env["BENCH_FLEET_CYCLES"] ?? "2"));
const STEP_S = 30;

/** One fleet size: its namespaces, and how long the backfilled series reach past the start. */
interface FleetSize {
  readonly namespaces: number;
  readonly horizonS: number;
  /** The rows with a 1 m authorization cache too (the 1,000-HPA fleet only). */
  readonly cacheRows: boolean;
  /** A row of ours without the in-flight limit, whose bursts exceed it (the 10,000-HPA fleet). */
  readonly unlimitedRow: boolean;
}

const FLEET_1K: FleetSize = {
  namespaces: 100,
  horizonS: 40 * 60,
  cacheRows: true,
  unlimitedRow: false,
};
const FLEET_10K: FleetSize = {
  namespaces: 1000,
  horizonS: 15 * 60,
  cacheRows: false,
  unlimitedRow: true,
};
const CM = "/apis/custom.metrics.k8s.io/v1beta2";
const PODS_METRICS = ["fleet_http_requests_per_second", "fleet_queue_depth", "fleet_inflight"];
const OBJECT_METRIC = "fleet_ingress_requests_per_second";

const CONFIG = `rules:
  - seriesQuery: '{__name__="fleet_http_requests_total",namespace!="",pod!=""}'
    resources: { overrides: { namespace: { resource: namespace }, pod: { resource: pod } } }
    name: { matches: "^(.*)_total$", as: "\${1}_per_second" }
    metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)
  - seriesQuery: '{__name__=~"fleet_queue_depth|fleet_inflight",namespace!="",pod!=""}'
    resources: { overrides: { namespace: { resource: namespace }, pod: { resource: pod } } }
    metricsQuery: avg(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
  - seriesQuery: '{__name__="fleet_ingress_requests_total",namespace!="",service!=""}'
    resources: { overrides: { namespace: { resource: namespace }, service: { resource: service } } }
    name: { matches: "^(.*)_total$", as: "\${1}_per_second" }
    metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)
`;

/**
 * prometheus-adapter's Kubernetes client is rate-limited to 5 requests/s (burst 10) by default,
 * and every `pods/*` request lists pods: at ~60 lists/s its queue grows without bound and requests
 * time out (a first run answered 23 of 2,000 within 30 s). Lifted for both (ours has no limit and
 * ignores the flags), so the table compares query counts and latency, not that default.
 */
const LISTER_QPS = ["--client-qps=1000", "--client-burst=2000"];

/** The 10,000-HPA fleet's namespaces have names of their own: the smaller fleet's may still be terminating. */
const nsName = (n: number, namespaces: number) =>
  namespaces <= 100
    ? `kcm-fleet-${String(n).padStart(3, "0")}`
    : `kcm-fleet${String(namespaces)}-${String(n).padStart(4, "0")}`;
/** The characters Kubernetes uses for generated name suffixes (no vowels, no look-alikes). */
const NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789";
const nameSuffix = (seed: number, length: number) => {
  const rnd = prng(seed);
  return Array.from({ length }, () => NAME_CHARS[Math.floor(rnd() * NAME_CHARS.length)]).join("");
};
/**
 * As a Deployment's ReplicaSet names its pods: `<deployment>-<template hash>-<random>`, so names
 * differ between namespaces as in a real cluster (deterministic here). Were they the same in
 * every namespace, a grouped query's pod matcher would match pods of namespaces that did not ask.
 */
const podName = (n: number, d: number, p: number) =>
  `dep-${String(d)}-${nameSuffix(n * 100 + d, 10)}-${nameSuffix(1e6 + n * 100 + d * 10 + p, 5)}`;

type Hpa = FleetRequest;

/** A small deterministic PRNG (mulberry32), so every run has the same phases. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function fleetHpas(namespaces = FLEET_1K.namespaces): Hpa[] {
  const hpas: Omit<Hpa, "phase">[] = [];
  for (let n = 0; n < namespaces; n++) {
    for (let d = 0; d < DEPLOYMENTS; d++) {
      const ns = nsName(n, namespaces);
      hpas.push(
        d === DEPLOYMENTS - 1
          ? { path: `${CM}/namespaces/${ns}/services/frontend/${OBJECT_METRIC}`, items: 1 }
          : {
              // As the HPA controller encodes the Deployment's selector.
              path: `${CM}/namespaces/${ns}/pods/*/${PODS_METRICS[d % 3] ?? ""}?labelSelector=${encodeURIComponent(`app=dep-${String(d)}`)}`,
              items: PODS_PER_DEPLOYMENT,
            },
      );
    }
  }
  // Fisher–Yates with a fixed seed: phases spread evenly, metrics mixed within each second.
  const order = hpas.map((_, i) => i);
  const rnd = prng(7);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
  }
  return order.map((h, k) => ({ ...(hpas[h] as Omit<Hpa, "phase">), phase: k % PERIOD_S }));
}

function openMetrics(nowS: number, size: FleetSize): string {
  const from = nowS - 600;
  const steps = Math.ceil((600 + size.horizonS) / STEP_S);
  const NAMESPACES = size.namespaces;
  const out: string[] = [];
  const series = (name: string, labels: string, value: (k: number) => number) => {
    for (let k = 0; k <= steps; k++) {
      out.push(`${name}{${labels}} ${String(value(k))} ${String(from + k * STEP_S)}`);
    }
  };
  out.push("# TYPE fleet_http_requests counter");
  for (let n = 0; n < NAMESPACES; n++) {
    for (let d = 0; d < DEPLOYMENTS; d++) {
      for (let p = 0; p < PODS_PER_DEPLOYMENT; p++) {
        const ls = `namespace="${nsName(n, NAMESPACES)}",pod="${podName(n, d, p)}"`;
        series("fleet_http_requests_total", ls, (k) => k * STEP_S * (1 + ((n + d + p) % 20)));
      }
    }
  }
  for (const [name, base] of [
    ["fleet_queue_depth", 10],
    ["fleet_inflight", 3],
  ] as const) {
    out.push(`# TYPE ${name} gauge`);
    for (let n = 0; n < NAMESPACES; n++) {
      for (let d = 0; d < DEPLOYMENTS; d++) {
        for (let p = 0; p < PODS_PER_DEPLOYMENT; p++) {
          const ls = `namespace="${nsName(n, NAMESPACES)}",pod="${podName(n, d, p)}"`;
          series(name, ls, (k) => base + ((n + d + k) % 7));
        }
      }
    }
  }
  out.push("# TYPE fleet_ingress_requests counter");
  for (let n = 0; n < NAMESPACES; n++) {
    series(
      "fleet_ingress_requests_total",
      `namespace="${nsName(n, NAMESPACES)}",service="frontend"`,
      (k) => k * STEP_S * (5 + (n % 10)),
    );
  }
  out.push("# EOF");
  return out.join("\n") + "\n";
}

async function call(pool: Pool, method: "POST" | "DELETE", path: string, body: unknown) {
  // A pod in a namespace made a moment ago is refused until the serviceaccount controller has
  // given the namespace its "default" ServiceAccount: asked again for up to 30 s.
  for (let attempt = 0; ; attempt++) {
    const r = await pool.request({
      method,
      path,
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    });
    const text = await r.body.text();
    if ([200, 201, 202, 404, 409].includes(r.statusCode)) return;
    if (
      r.statusCode === 403 &&
      text.includes("error looking up service account") &&
      attempt < 300
    ) {
      await sleep(100);
      continue;
    }
    throw new Error(`${method} ${path}: ${String(r.statusCode)} ${text.slice(0, 300)}`);
  }
}

async function eachLimited<T>(items: readonly T[], width: number, fn: (t: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

async function createFleetObjects(ctx: BenchContext, namespaces: number): Promise<void> {
  const pool = await adminPool(ctx.info);
  try {
    const nss = Array.from({ length: namespaces }, (_, n) => nsName(n, namespaces));
    await eachLimited(nss, 16, (ns) =>
      call(pool, "POST", "/api/v1/namespaces", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: ns },
      }),
    );
    const pods = nss.flatMap((ns, n) =>
      Array.from({ length: DEPLOYMENTS * PODS_PER_DEPLOYMENT }, (_, i) => ({
        n,
        ns,
        d: Math.floor(i / PODS_PER_DEPLOYMENT),
        p: i % PODS_PER_DEPLOYMENT,
      })),
    );
    await eachLimited(pods, 16, ({ n, ns, d, p }) =>
      call(pool, "POST", `/api/v1/namespaces/${ns}/pods`, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: podName(n, d, p), labels: { app: `dep-${String(d)}` } },
        spec: { nodeName: NOWHERE_NODE, containers: [{ name: "app", image: "kcm-bench/none" }] },
      }),
    );
  } finally {
    await pool.close();
  }
}

async function deleteFleetObjects(ctx: BenchContext, namespaces: number): Promise<void> {
  const pool = await adminPool(ctx.info);
  try {
    await eachLimited(
      Array.from({ length: namespaces }, (_, n) => nsName(n, namespaces)),
      16,
      async (ns) => {
        // No kubelet will confirm a graceful deletion of these pods.
        await call(pool, "DELETE", `/api/v1/namespaces/${ns}/pods?gracePeriodSeconds=0`, {});
        await call(pool, "DELETE", `/api/v1/namespaces/${ns}`, {});
      },
    );
  } finally {
    await pool.close();
  }
}

/**
 * kube-apiserver's own count of SubjectAccessReviews created, from its /metrics: the same figure
 * for both adapters, whatever each counts itself. Nothing else in the bench cluster sends them
 * while an adapter is measured (one adapter runs at a time).
 */
async function apiserverSubjectAccessReviews(ctx: BenchContext): Promise<number> {
  const pool = await adminPool(ctx.info);
  try {
    const r = await pool.request({ method: "GET", path: "/metrics" });
    const text = await r.body.text();
    if (r.statusCode !== 200) throw new Error(`GET /metrics: ${String(r.statusCode)}`);
    return subjectAccessReviewsCreated(text);
  } finally {
    await pool.close();
  }
}

// ---------------------------------------------------------------------------------------------

interface FleetFigures {
  readonly adapter: string;
  readonly requests: number;
  /** Turned away with 429 by the server's in-flight limit (not among `errors`). */
  readonly rejected: number;
  /** Failed otherwise: another status, a wrong answer, no answer in 30 s. */
  readonly errors: number;
  readonly firstError?: string;
  readonly prometheusQueries: number;
  readonly postQueries: number;
  readonly queriesPerRequest: number;
  /** SubjectAccessReviews kube-apiserver received during the measured cycles, per 1 s burst. */
  readonly subjectAccessReviewsPerBurst: number;
  /** Answered correctly within the HPA period (15 s). */
  readonly answeredInPeriod: number;
  /** The most requests outstanding when a burst went out. */
  readonly maxOutstanding: number;
  /** HTTP/2 connections opened (warm-up included). */
  readonly connections: number;
  /** Median and longest time the load generator took to hand a measured burst to HTTP/2. */
  readonly handOffMs: number;
  readonly handOffMaxMs: number;
  /** Latency of the requests answered correctly (a 429 comes back at once: left out). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** p99 timed from each burst's start instead, as runs before 2026-12-07 timed it. */
  readonly p99FromStartMs: number;
  readonly maxMs: number;
  readonly cpuSeconds: number;
  /** Ours: mark-compacts and GC time during the measured cycles, from its own /metrics. */
  readonly gc?: GcCounts;
  /** VmHWM over the adapter's whole life (start, warm-up and measured cycles), MiB. */
  readonly peakRssMb: number;
}

interface GcCounts {
  readonly majors: number;
  readonly seconds: number;
}

/**
 * Ours' GC so far, from `nodejs_gc_duration_seconds` on its /metrics (as a member of
 * system:masters, never refused; every collection counted, observability/metrics.ts): the
 * mark-compacts ("major") and the seconds of every kind.
 * A burst with a mark-compact in it was the slow kind (bench/README.md).
 */
async function gcCounts(a: RunningBenchAdapter, creds: AggregatorCredentials): Promise<GcCounts> {
  const r = await httpsGet({
    url: `${a.url}/metrics`,
    cert: creds.tls.cert,
    key: creds.tls.key,
    insecure: true,
    headers: { "X-Remote-User": "bench-metrics", "X-Remote-Group": "system:masters" },
  });
  if (r.status !== 200) throw new Error(`GET /metrics: ${String(r.status)}`);
  let majors = 0;
  let seconds = 0;
  for (const m of r.text.matchAll(
    /^nodejs_gc_duration_seconds_(count|sum)\{kind="(\w+)"\} (\S+)$/gm,
  )) {
    if (m[1] === "sum") seconds += Number(m[3]);
    else if (m[2] === "major") majors += Number(m[3]);
  }
  return { majors, seconds };
}

const median = (xs: readonly number[]) =>
  percentile(
    [...xs].sort((x, y) => x - y),
    50,
  );

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

function countQueries(a: RunningBenchAdapter, from: number, to: number) {
  const qs = a.queries.slice(from, to).filter((r) => {
    const path = new URL(r.url, "http://x").pathname;
    return path === "/api/v1/query";
  });
  return { all: qs.length, post: qs.filter((r) => r.method === "POST").length };
}

async function measure(
  ctx: BenchContext,
  label: string,
  impl: "ours" | "upstream",
  extraArgs: readonly string[],
  config: string,
  prometheusUrl: string,
  hpas: readonly Hpa[],
): Promise<FleetFigures> {
  const creds = await aggregatorCredentials(ctx.info);
  const a = await startAdapter(impl, {
    info: ctx.info,
    config,
    prometheusUrl,
    recordQueries: true,
    extraArgs,
  });
  try {
    // One path per kind answers before load: upstream's readiness does not wait for discovery.
    for (const m of [...PODS_METRICS, OBJECT_METRIC]) {
      const h = hpas.find((x) => x.path.includes(`/${m}`));
      if (h) await waitForOk(a, h.path);
    }
    ctx.log(`${label}: warm-up cycle (${String(PERIOD_S)} s)`);
    let q0 = 0;
    let cpu0 = 0;
    let sar0 = 0;
    let gc0: GcCounts | undefined;
    const { samples, maxOutstanding, connections, handOffMs } = await runFleetBursts(
      { url: a.url, creds, hpas, schedule: { periodS: PERIOD_S, warmUp: 1, cycles: CYCLES } },
      async () => {
        // Read before the CPU counter: its answer's CPU stays out of the window.
        if (impl === "ours") gc0 = await gcCounts(a, creds);
        q0 = a.queries.length;
        cpu0 = a.cpuSeconds();
        sar0 = await apiserverSubjectAccessReviews(ctx);
        ctx.log(`${label}: ${String(CYCLES)} measured cycles`);
      },
    );
    const cpuSeconds = a.cpuSeconds() - cpu0;
    const sars = (await apiserverSubjectAccessReviews(ctx)) - sar0;
    const gc1 = gc0 && (await gcCounts(a, creds));
    const q = countQueries(a, q0, a.queries.length);
    const answered = samples.filter((x) => x.ok);
    const sorted = answered.map((x) => x.ms).sort((x, y) => x - y);
    const failed = samples.filter((x) => !x.ok && x.rejected !== true);
    const rejected = samples.filter((x) => x.rejected === true);
    const firstError = (failed[0] ?? rejected[0])?.error;
    const f: FleetFigures = {
      adapter: label,
      requests: samples.length,
      rejected: rejected.length,
      errors: failed.length,
      ...(firstError === undefined ? {} : { firstError }),
      prometheusQueries: q.all,
      postQueries: q.post,
      queriesPerRequest: q.all / samples.length,
      subjectAccessReviewsPerBurst: sars / (CYCLES * PERIOD_S),
      answeredInPeriod: answered.filter((x) => x.ms <= PERIOD_S * 1000).length,
      maxOutstanding,
      connections,
      handOffMs: median(handOffMs),
      handOffMaxMs: Math.max(...handOffMs),
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      p99FromStartMs: percentile(
        answered.map((x) => x.ms + x.lead).sort((x, y) => x - y),
        99,
      ),
      maxMs: sorted.at(-1) ?? Number.NaN,
      cpuSeconds,
      ...(gc0 && gc1
        ? { gc: { majors: gc1.majors - gc0.majors, seconds: gc1.seconds - gc0.seconds } }
        : {}),
      peakRssMb: a.peakRssMb(),
    };
    ctx.log(
      `${label}: ${String(f.requests)} requests, ${String(f.prometheusQueries)} queries, ` +
        `${f.subjectAccessReviewsPerBurst.toFixed(1)} SubjectAccessReviews per burst, ` +
        `p99 ${f.p99Ms.toFixed(1)} ms (${f.p99FromStartMs.toFixed(1)} ms from the bursts' starts, hand-off ${f.handOffMs.toFixed(1)} ms), ${f.gc ? `${String(f.gc.majors)} mark-compacts, ` : ""}${String(f.answeredInPeriod)} in period, queue ${String(f.maxOutstanding)}, ${String(f.connections)} connections, peak RSS ${f.peakRssMb.toFixed(0)} MiB, ${String(f.rejected)} rejected (429), ${String(f.errors)} errors${f.firstError ? ` (${f.firstError})` : ""}`,
    );
    return f;
  } finally {
    await a.stop();
  }
}

/** Same flag, same meaning in both adapters (k8s.io/apiserver delegated authorization). */
const AUTHZ_TTL = "--authorization-webhook-cache-authorized-ttl=1m";

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : "—");

function markdown(size: FleetSize, rows: readonly FleetFigures[]): string {
  const hpaCount = size.namespaces * DEPLOYMENTS;
  const perBurst = Math.round(hpaCount / PERIOD_S);
  const big = size !== FLEET_1K;
  const up = rows.find((r) => r.adapter === "upstream");
  const ours = rows.find((r) => r.adapter === "ours");
  const line = (r: FleetFigures) =>
    `| ${r.adapter} | ${String(r.requests)} | ${String(r.prometheusQueries)} (${String(r.postQueries)} POST) | ${fmt(r.queriesPerRequest, 3)} | ${fmt(r.subjectAccessReviewsPerBurst)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.maxMs)} | ${String(r.rejected)} | ${String(r.errors)} | ${String(r.answeredInPeriod)} | ${String(r.maxOutstanding)} | ${fmt(r.cpuSeconds, 2)} | ${fmt(r.peakRssMb, 0)} |`;
  const ratio = (f: (r: FleetFigures) => number) =>
    up && ours && f(up) !== 0 ? fmt(f(ours) / f(up), 3) : "—";
  const lines = [
    big ? `## HPA fleet, ${hpaCount.toLocaleString("en-US")} HPAs` : "## HPA fleet",
    "",
    `${deployedSentence()} Peak RSS is VmHWM over each adapter's whole life (start-up, warm-up and measured cycles). The machine's 2 cores are shared with other work: latency and CPU figures are noisy; RSS is not.`,
    "",
    `${hpaCount.toLocaleString("en-US")} HPAs (${String(size.namespaces)} namespaces × ${String(DEPLOYMENTS)} Deployments of ${String(PODS_PER_DEPLOYMENT)} pods; 3 Pods metrics over the Deployment's selector, 1 in 10 on an Object metric), each due once per ${String(PERIOD_S)} s at its own phase: every second the ~${String(perBurst)} due HPAs send their v1beta2 request together, open loop, over HTTP/2 with the front-proxy certificate (a new connection when the open ones are at the server's stream limit, as Go's transport; ${String(Math.max(...rows.map((r) => r.connections)))} at most). Each request is timed from its burst's hand-off to HTTP/2 to the end of its answer's stream: Node writes no request of a burst before the load generator has made them all, which took it a median of ${fmt(median(rows.map((r) => r.handOffMs)))} ms a burst (longest ${fmt(Math.max(...rows.map((r) => r.handOffMaxMs)))} ms) — its own CPU, not the adapter's latency (runs before 2026-12-07 counted it in every request). ${String(CYCLES)} measured cycles after one warm-up cycle, on one schedule (the first measured burst a second after the last warm-up one). Queries counted by a recording proxy in front of Prometheus (its hop is in every latency). SubjectAccessReviews are kube-apiserver's own count during the measured cycles (ours: on the request path and refreshed ahead in the background together), per 1 s burst. p50/p99/max: of the requests answered correctly. "rejected (429)": turned away by the server's in-flight limit (\`--max-requests-inflight\`, 400 in both by default: a burst beyond it is answered 429 at once, and the HPA controller tries again at its next sync); "errors": any other failure, a request not answered in 30 s among them; "in period": answered correctly within ${String(PERIOD_S)} s; "queue": the most requests outstanding when a burst went out.`,
    "",
    "| adapter | HPA requests | Prometheus queries | queries / request | SARs / burst | p50 ms | p99 ms | max ms | rejected (429) | errors | in period | queue | CPU s | peak RSS MiB |",
    "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |",
    ...rows.map(line),
    `| ours / upstream (default flags) | | ${ratio((r) => r.prometheusQueries)} | ${ratio((r) => r.queriesPerRequest)} | ${ratio((r) => r.subjectAccessReviewsPerBurst)} | ${ratio((r) => r.p50Ms)} | ${ratio((r) => r.p99Ms)} | ${ratio((r) => r.maxMs)} | | | | | ${ratio((r) => r.cpuSeconds)} | ${ratio((r) => r.peakRssMb)} |`,
  ];
  const collected = rows.filter((r) => r.gc !== undefined);
  if (collected.length > 0) {
    lines.push(
      "",
      `Ours' own garbage collection during the measured cycles (its \`nodejs_gc_duration_seconds\`; a burst with a mark-compact in it is a slow one, bench/README.md): ${collected.map((r) => `${r.adapter}: ${String(r.gc?.majors)} mark-compacts, ${fmt(r.gc?.seconds ?? Number.NaN, 2)} s in GC pauses`).join("; ")}.`,
    );
  }
  if (big && ours) {
    const met = (ok: boolean) => (ok ? "met" : "missed");
    lines.push(
      "",
      `Goals for ours: p99 ≤ 100 ms (${met(ours.p99Ms <= 100)}: ${fmt(ours.p99Ms)} ms, of the ${String(ours.requests - ours.rejected - ours.errors)} answered; ${fmt(ours.p99FromStartMs)} ms timed from each burst's start; ${String(ours.rejected)} of ${String(ours.requests)} turned away with 429), ≤ 0.05 Prometheus queries per request (${met(ours.queriesPerRequest <= 0.05)}: ${fmt(ours.queriesPerRequest, 3)}), peak RSS ≤ ${String(RSS_GOAL_MIB)} MiB (${met(ours.peakRssMb <= RSS_GOAL_MIB)}: ${fmt(ours.peakRssMb, 0)} MiB).`,
    );
    if (up) {
      lines.push(
        "",
        `Upstream answered ${String(up.answeredInPeriod)} of ${String(up.requests)} requests within the period (ours ${String(ours.answeredInPeriod)}); its queue reached ${String(up.maxOutstanding)} outstanding requests (ours ${String(ours.maxOutstanding)}).`,
      );
    }
    return lines.join("\n");
  }
  if (up && ours) {
    const fewer = up.prometheusQueries / Math.max(1, ours.prometheusQueries);
    lines.push(
      "",
      `Goal: at least 5× fewer Prometheus queries than upstream (${fewer >= 5 ? "met" : "missed"}: ${fmt(fewer)}×), p99 under 50 ms (${ours.p99Ms < 50 ? "met" : "missed"}: ${fmt(ours.p99Ms)} ms; ${fmt(ours.p99FromStartMs)} ms timed from each burst's start).`,
    );
  }
  const mine = rows.filter((r) => r.adapter.startsWith("ours"));
  const highest = Math.max(...mine.map((r) => r.peakRssMb));
  if (mine.length > 0) {
    lines.push(
      "",
      `Peak RSS ≤ ${String(RSS_GOAL_MIB)} MiB in every run of ours: ${highest <= RSS_GOAL_MIB ? "met" : "missed"} (highest ${fmt(highest, 0)} MiB).`,
    );
  }
  const base = memoryBaseline();
  if (base) {
    lines.push(
      "",
      `Ours before (this bench, ${base.fleet.date}: ${base.note.replace(/ Read by .*$/, "")}) and now:`,
      "",
      "| adapter | peak RSS MiB before | now | p50 ms before | now | p99 ms before | now | CPU s before | now |",
      "| --- | --: | --: | --: | --: | --: | --: | --: | --: |",
      ...mine.map((r) => {
        const b = base.fleet.adapters.find((x) => x.adapter === r.adapter);
        const v = (x: number | undefined, d = 1) => (x === undefined ? "–" : fmt(x, d));
        return `| ${r.adapter} | ${v(b?.peakRssMb, 0)} | ${fmt(r.peakRssMb, 0)} | ${v(b?.p50Ms)} | ${fmt(r.p50Ms)} | ${v(b?.p99Ms)} | ${fmt(r.p99Ms)} | ${v(b?.cpuSeconds, 2)} | ${fmt(r.cpuSeconds, 2)} |`;
      }),
    );
  }
  return lines.join("\n");
}

async function run(ctx: BenchContext, size: FleetSize): Promise<ScenarioResult> {
  const hpas = fleetHpas(size.namespaces);
  ctx.log(
    `creating ${String(size.namespaces)} namespaces and ${String(size.namespaces * DEPLOYMENTS * PODS_PER_DEPLOYMENT)} pods`,
  );
  await ensureMetricsReader(ctx.info);
  await createFleetObjects(ctx, size.namespaces);
  const dir = mkdtempSync(join(tmpdir(), "kcm-bench-fleet-"));
  const config = join(dir, "config.yaml");
  writeFileSync(config, CONFIG);
  ctx.log("backfilling Prometheus");
  const prom = await startPrometheus({
    openMetrics: openMetrics(Math.floor(Date.now() / 1000), size),
  });
  try {
    const rows: FleetFigures[] = [];
    // BENCH_FLEET_ROWS=upstream,ours (labels, comma-separated): only those rows.
    const only = process.env["BENCH_FLEET_ROWS"]?.split(",").map((x) => x.trim());
    const row = async (label: string, impl: "ours" | "upstream", args: readonly string[]) => {
      if (only && !only.includes(label)) return;
      rows.push(await measure(ctx, label, impl, args, config, prom.url, hpas));
    };
    await row("upstream", "upstream", LISTER_QPS);
    await row("ours, grouping off", "ours", [...LISTER_QPS, "--query-grouping-max-objects=0"]);
    await row("ours", "ours", LISTER_QPS);
    // Every burst answered, none turned away: what the queue costs in latency instead.
    if (size.unlimitedRow) {
      await row("ours, no in-flight limit", "ours", [...LISTER_QPS, "--max-requests-inflight=0"]);
    }
    if (size.cacheRows && only === undefined) {
      // A cache that outlives the HPA's 15 s cadence: the rows show what authorization costs
      // each adapter (upstream asks again for every (namespace, metric) whose 10 s answer
      // expired; ours refreshes answers in use ahead of expiry, docs/flags.md).
      rows.push(
        await measure(
          ctx,
          "upstream, authorization cache 1m",
          "upstream",
          [...LISTER_QPS, AUTHZ_TTL],
          config,
          prom.url,
          hpas,
        ),
      );
      rows.push(
        await measure(
          ctx,
          "ours, authorization cache 1m",
          "ours",
          [...LISTER_QPS, AUTHZ_TTL],
          config,
          prom.url,
          hpas,
        ),
      );
    }
    return {
      json: {
        hpas: hpas.length,
        namespaces: size.namespaces,
        deployments: DEPLOYMENTS,
        podsPerDeployment: PODS_PER_DEPLOYMENT,
        periodSeconds: PERIOD_S,
        cycles: CYCLES,
        nodeOptions: deployedNodeOptions(),
        v8Flags: binV8Flags(),
        adapters: rows,
      },
      markdown: markdown(size, rows),
    };
  } finally {
    await prom.stop();
    rmSync(dir, { recursive: true, force: true });
    await deleteFleetObjects(ctx, size.namespaces).catch((e: unknown) => {
      ctx.log(`cleanup failed: ${String(e)}`);
    });
  }
}

export const fleet: Scenario = { name: "fleet", run: (ctx) => run(ctx, FLEET_1K) };

/** 10,000 HPAs (issue #17 item 4); bench/run.ts lists it as `fleet-10k`. */
export const fleet10k: Scenario = { name: "fleet-10k", run: (ctx) => run(ctx, FLEET_10K) };
