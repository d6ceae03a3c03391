/**
 * @module bench/queries
 * HPA-shaped queries side by side (issue #7, part 2), and a CPU profile of ours (part 4).
 *
 * "queries": a real Prometheus backfilled for 1,000 pods, 1,000 Pod objects labelled so
 * selectors pick 10, 100 or 1,000 of them, a Service, a queue gauge; both adapters with the same
 * config ({@link benchConfigYaml}) behind the same authentication and authorization
 * (bench/support/adapters.ts). For each request kind the HPA controller sends — custom v1beta2
 * `pods/*` over 10, 100 and 1,000 pods, an object (Service) metric, an external metric, a
 * metrics.k8s.io pod list over 100 pods — and each concurrency (1, 16, 64), a bounded closed-loop
 * run (bench/support/load.ts) against: the floor (the PromQL our adapter sends for that request,
 * captured through a recording proxy, sent straight to Prometheus), ours, upstream. Prometheus'
 * own request counter gives the number of queries each adapter sent.
 *
 * "profile": ours under `node --cpu-prof`, `pods/*` over 100 pods at concurrency 1 (the case whose
 * per-request overhead issue #17 measures); the top self-time functions of the profile.
 *
 * Knobs: BENCH_QUERIES_SECONDS (10), BENCH_QUERIES_CONCURRENCY (1,16,64), BENCH_QUERIES_KINDS
 * (all: pods-10,pods-100,pods-1000,object,external,resource-pods-100), BENCH_PROFILE_SECONDS (15),
 * BENCH_PROFILE_KIND (pods-100), BENCH_PROFILE_CONCURRENCY (1), BENCH_PROFILE_MAIN (profile another
 * build's entrypoint instead, e.g. an older commit's, for a before/after), BENCH_PROFILE_DIR (keep
 * the .cpuprofile there; default a temporary folder).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startPrometheus, type RunningPrometheus } from "../test/support/prometheus.ts";
import {
  aggregatorCredentials,
  ensureMetricsReader,
  startAdapter,
  waitForOk,
  type AggregatorCredentials,
  type Implementation,
  type RunningBenchAdapter,
} from "./support/adapters.ts";
import {
  BENCH_NAMESPACE,
  BENCH_SERVICE,
  benchConfigYaml,
  benchOpenMetrics,
  createBenchObjects,
  deleteBenchObjects,
  podSelector,
} from "./support/fixtures.ts";
import {
  binV8Flags,
  deployedNodeOptions,
  deployedSentence,
  memoryBaseline,
  RSS_GOAL_MIB,
  type MemoryBaseline,
} from "./support/deployed.ts";
import { runLoad, type LoadRequest, type LoadResult, type LoadTarget } from "./support/load.ts";
import type { BenchContext, Scenario } from "./scenario.ts";

const PODS = 1000;
/**
 * prometheus-adapter's Kubernetes client defaults to 5 requests/s (burst 10), and it lists pods
 * for every `pods/*` request, which would cap it at 5 such answers per second. Both get a limit
 * that never binds (ours has no client-side limit and accepts the flags for compatibility), so
 * the table compares the adapters' own work, as the HPA fleet scenario does.
 */
const CLIENT_LIMITS = ["--client-qps=1000", "--client-burst=2000"];
/** What the HPA controller sends (kube-controller-manager prefers protobuf; JSON answers are fine). */
const HPA_ACCEPT = "application/vnd.kubernetes.protobuf, */*";

export interface RequestKind {
  readonly id: string;
  readonly label: string;
  readonly path: string;
  /** Items a correct answer holds. */
  readonly items: number;
}

function q(params: Record<string, string>): string {
  // Go's url.Values.Encode, as the aggregator re-encodes: sorted keys, `=`/`,` escaped.
  const s = new URLSearchParams(Object.entries(params).sort(([a], [b]) => (a < b ? -1 : 1)));
  return `?${s.toString()}`;
}

const CM = `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${BENCH_NAMESPACE}`;

/** The exact URLs the HPA controller sends for each metric source type. */
export const REQUEST_KINDS: readonly RequestKind[] = [
  ...[10, 100, 1000].map((n) => ({
    id: `pods-${String(n)}`,
    label: `custom pods/* (${String(n)} pods)`,
    path: `${CM}/pods/%2A/bench_http_requests_per_second${q({ labelSelector: podSelector(n) })}`,
    items: n,
  })),
  {
    id: "object",
    label: "custom object (Service)",
    path: `${CM}/services/${BENCH_SERVICE}/bench_service_queue_length`,
    items: 1,
  },
  {
    id: "external",
    label: "external",
    path: `/apis/external.metrics.k8s.io/v1beta1/namespaces/${BENCH_NAMESPACE}/bench_queue_depth${q({ labelSelector: "queue=q1" })}`,
    items: 1,
  },
  {
    id: "resource-pods-100",
    label: "metrics.k8s.io pods (100 pods)",
    path: `/apis/metrics.k8s.io/v1beta1/namespaces/${BENCH_NAMESPACE}/pods${q({ labelSelector: podSelector(100) })}`,
    items: 100,
  },
];

function envList(name: string, fallback: string): string[] {
  return (process.env[name] ?? fallback).split(",").filter((s) => s !== "");
}

interface Fixtures {
  readonly prom: RunningPrometheus;
  readonly config: string;
  readonly creds: AggregatorCredentials;
  stop(): Promise<void>;
}

async function setUp(ctx: BenchContext, horizonMs: number): Promise<Fixtures> {
  ctx.log(`RBAC, ${String(PODS)} pods and a Service in ${BENCH_NAMESPACE}`);
  await ensureMetricsReader(ctx.info);
  await createBenchObjects(ctx.info, PODS);
  ctx.log(`backfilling Prometheus (${String(PODS)} pods, ${String(horizonMs / 60_000)} min ahead)`);
  const prom = await startPrometheus({
    openMetrics: benchOpenMetrics(PODS, Date.now(), horizonMs),
  });
  const dir = mkdtempSync(join(tmpdir(), "kcm-bench-queries-"));
  const config = join(dir, "config.yaml");
  writeFileSync(config, benchConfigYaml());
  return {
    prom,
    config,
    creds: await aggregatorCredentials(ctx.info),
    async stop() {
      await prom.stop();
      await deleteBenchObjects(ctx.info).catch(() => undefined);
    },
  };
}

/** Checks an answer: a list with the expected number of items. */
function checkItems(impl: string, kind: RequestKind, text: string): void {
  const items = (JSON.parse(text) as { items?: unknown[] }).items ?? [];
  if (items.length !== kind.items) {
    throw new Error(
      `${impl}: ${kind.id} answered ${String(items.length)} items, expected ${String(kind.items)}: ${text.slice(0, 300)}`,
    );
  }
}

/** A request for the same PromQL at a fresh `time` (the adapters query at "now"). */
function floorRequest(recorded: { method: string; url: string; body: string }): LoadRequest {
  const [path = "", query = ""] = recorded.url.split("?", 2);
  const params = new URLSearchParams(recorded.method === "POST" ? recorded.body : query);
  const withTime = () => {
    params.set("time", (Date.now() / 1000).toFixed(3));
    return params.toString();
  };
  if (recorded.method === "POST") {
    return {
      method: "POST",
      path,
      body: withTime,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    };
  }
  return { method: "GET", path: () => `${path}?${withTime()}` };
}

/** Our adapter behind a recording proxy: the PromQL it sends for one request of each kind. */
async function capturePromQl(
  ctx: BenchContext,
  f: Fixtures,
  kinds: readonly RequestKind[],
): Promise<Map<string, LoadRequest[]>> {
  const ours = await startAdapter("ours", {
    info: ctx.info,
    config: f.config,
    prometheusUrl: f.prom.url,
    recordQueries: true,
  });
  try {
    const out = new Map<string, LoadRequest[]>();
    for (const k of kinds) {
      await waitForOk(ours, k.path);
      const before = ours.queries.length;
      checkItems("ours", k, await waitForOk(ours, k.path));
      const sent = ours.queries.slice(before).filter((r) => r.url.startsWith("/api/v1/query"));
      if (sent.length === 0) throw new Error(`no Prometheus query seen for ${k.id}`);
      out.set(k.id, sent.map(floorRequest));
    }
    return out;
  } finally {
    await ours.stop();
  }
}

/** Prometheus' own count of answered instant queries (all status codes). */
async function promQueryCount(promUrl: string): Promise<number> {
  const text = await (await fetch(`${promUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (
      line.startsWith("prometheus_http_requests_total{") &&
      line.includes('handler="/api/v1/query"')
    ) {
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return total;
}

export interface AdapterRun extends LoadResult {
  /** Prometheus instant queries the adapter sent during the run (warm-up included)… */
  readonly promQueries: number;
  /** …per adapter request (warm-up included): below 1 where coalescing shared queries. */
  readonly promQueriesPerRequest: number;
}

export interface QueriesRow {
  readonly kind: string;
  readonly label: string;
  readonly concurrency: number;
  readonly floor: LoadResult;
  readonly ours: AdapterRun;
  readonly upstream: AdapterRun;
}

/** An adapter reached as the aggregator reaches it: HTTP/2, front-proxy certificate, the HPA's Accept. */
function asAggregator(a: RunningBenchAdapter, f: Fixtures): LoadTarget {
  return {
    origin: a.url,
    protocol: "h2",
    tls: f.creds.tls,
    headers: { ...f.creds.headers, accept: HPA_ACCEPT },
  };
}

async function measureAdapter(
  a: RunningBenchAdapter,
  f: Fixtures,
  kind: RequestKind,
  concurrency: number,
  seconds: number,
): Promise<AdapterRun> {
  const warmupRequests = Math.max(10, concurrency);
  const before = await promQueryCount(f.prom.url);
  const r = await runLoad(
    asAggregator(a, f),
    { path: kind.path },
    { concurrency, durationMs: seconds * 1000, requests: 1_000_000, warmupRequests, pid: a.pid },
  ).catch((e: unknown) => {
    throw new Error(
      `${a.implementation}, ${kind.id} at concurrency ${String(concurrency)}: ${String(e)}`,
    );
  });
  const promQueries = (await promQueryCount(f.prom.url)) - before;
  return { ...r, promQueries, promQueriesPerRequest: promQueries / (r.requests + warmupRequests) };
}

const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));
const ratio = (a: number, b: number) => (b === 0 ? "–" : (a / b).toFixed(2));

function tables(rows: readonly QueriesRow[]): string {
  const lat = [
    "| request | c | p50 ours | p50 upstream | ratio | p99 ours | p99 upstream | ratio | req/s ours | req/s upstream | ratio | floor p50 | ours − floor (p50) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const cost = [
    "| request | c | CPU s/1k req ours | upstream | ratio | peak RSS ours | upstream | ratio | Prometheus queries/request ours | upstream |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const o = r.ours;
    const u = r.upstream;
    lat.push(
      `| ${r.label} | ${String(r.concurrency)} | ${ms(o.p50Ms)} ms | ${ms(u.p50Ms)} ms | ${ratio(o.p50Ms, u.p50Ms)} | ${ms(o.p99Ms)} ms | ${ms(u.p99Ms)} ms | ${ratio(o.p99Ms, u.p99Ms)} | ${o.reqPerSec.toFixed(0)} | ${u.reqPerSec.toFixed(0)} | ${ratio(o.reqPerSec, u.reqPerSec)} | ${ms(r.floor.p50Ms)} ms | ${(o.p50Ms - r.floor.p50Ms).toFixed(2)} ms |`,
    );
    cost.push(
      `| ${r.label} | ${String(r.concurrency)} | ${(o.cpuSecondsPer1000 ?? NaN).toFixed(2)} | ${(u.cpuSecondsPer1000 ?? NaN).toFixed(2)} | ${ratio(o.cpuSecondsPer1000 ?? 0, u.cpuSecondsPer1000 ?? 0)} | ${(o.peakRssMb ?? NaN).toFixed(0)} MiB | ${(u.peakRssMb ?? NaN).toFixed(0)} MiB | ${ratio(o.peakRssMb ?? 0, u.peakRssMb ?? 0)} | ${o.promQueriesPerRequest.toFixed(2)} | ${u.promQueriesPerRequest.toFixed(2)} |`,
    );
  }
  return `${lat.join("\n")}\n\n${cost.join("\n")}\n`;
}

/** Ours before issue #12 item 5 (bench/baseline-memory.json) and now, per cell. */
function memoryTable(rows: readonly QueriesRow[], base: MemoryBaseline): string {
  const out = [
    `Ours before (this bench, ${base.queries.date}: ${base.note.replace(/ Read by .*$/, "")}) and now:`,
    "",
    "| request | c | peak RSS before | now | p50 before | now | p99 before | now | req/s before | now | CPU s/1k req before | now |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const b = base.queries.rows.find((x) => x.kind === r.kind && x.concurrency === r.concurrency);
    const o = r.ours;
    const v = (x: number | undefined, f: (n: number) => string) => (x === undefined ? "–" : f(x));
    const mib = (n: number) => `${n.toFixed(0)} MiB`;
    const lat = (n: number) => `${ms(n)} ms`;
    const rps = (n: number) => n.toFixed(0);
    const cpu = (n: number) => n.toFixed(2);
    out.push(
      `| ${r.label} | ${String(r.concurrency)} | ${v(b?.peakRssMb, mib)} | ${v(o.peakRssMb, mib)} | ${v(b?.p50Ms, lat)} | ${lat(o.p50Ms)} | ${v(b?.p99Ms, lat)} | ${lat(o.p99Ms)} | ${v(b?.reqPerSec, rps)} | ${rps(o.reqPerSec)} | ${v(b?.cpuSecondsPer1000, cpu)} | ${v(o.cpuSecondsPer1000, cpu)} |`,
    );
  }
  return out.join("\n");
}

/** The group document: authorized like every API request, answered without Prometheus. */
const TRANSPORT_PATH = "/apis/custom.metrics.k8s.io";

/** Splits "ours − floor" at c=1 into the transport every request pays and the rest. */
function transportNote(
  rows: readonly QueriesRow[],
  transport: ReadonlyMap<Implementation, LoadResult>,
): string {
  const o = transport.get("ours");
  const u = transport.get("upstream");
  if (o === undefined || u === undefined) return "";
  const rest = rows
    .filter((r) => r.concurrency === 1)
    .map((r) => `${r.kind} ${(r.ours.p50Ms - r.floor.p50Ms - o.p50Ms).toFixed(2)} ms`);
  return `
Transport: \`GET ${TRANSPORT_PATH}\` (the group document: authenticated and authorized like every request, no Prometheus query) at c=1 takes p50 ${ms(o.p50Ms)} ms on ours (p99 ${ms(o.p99Ms)} ms) and ${ms(u.p50Ms)} ms on upstream (p99 ${ms(u.p99Ms)} ms). That much of "ours − floor" is HTTP/2 over TLS, authentication and the authorization cache. Ours − floor − transport at c=1 (the adapter's own work per request): ${rest.join(", ")}.
`;
}

function goals(rows: readonly QueriesRow[]): string {
  const lines: string[] = [];
  const over = rows.filter((r) => r.ours.p50Ms - r.floor.p50Ms > 1);
  lines.push(
    over.length === 0
      ? "- Overhead above the floor ≤ 1 ms at p50: met in every row."
      : `- Overhead above the floor ≤ 1 ms at p50: missed in ${over
          .map(
            (r) =>
              `${r.kind}@${String(r.concurrency)} (+${(r.ours.p50Ms - r.floor.p50Ms).toFixed(2)} ms)`,
          )
          .join(", ")}.`,
  );
  const c64 = rows.filter((r) => r.concurrency === 64);
  const slow = c64.filter((r) => r.ours.reqPerSec < 1.5 * r.upstream.reqPerSec);
  if (c64.length > 0) {
    lines.push(
      slow.length === 0
        ? "- Throughput at concurrency 64 ≥ 1.5× upstream: met for every request kind."
        : `- Throughput at concurrency 64 ≥ 1.5× upstream: missed for ${slow
            .map((r) => `${r.kind} (${ratio(r.ours.reqPerSec, r.upstream.reqPerSec)}×)`)
            .join(", ")}.`,
    );
  }
  const peak = rows.reduce<QueriesRow | undefined>(
    (m, r) => ((r.ours.peakRssMb ?? 0) > (m?.ours.peakRssMb ?? -1) ? r : m),
    undefined,
  );
  if (peak) {
    const over = rows.filter((r) => (r.ours.peakRssMb ?? Infinity) > RSS_GOAL_MIB);
    lines.push(
      `- Peak RSS ≤ ${String(RSS_GOAL_MIB)} MiB in every cell: ${
        over.length === 0
          ? "met"
          : `missed in ${over.map((r) => `${r.kind}@${String(r.concurrency)}`).join(", ")}`
      } (highest ${(peak.ours.peakRssMb ?? NaN).toFixed(0)} MiB, ${peak.kind}@${String(peak.concurrency)}).`,
    );
  }
  const worse = rows.filter((r) => r.ours.p99Ms > r.upstream.p99Ms);
  lines.push(
    worse.length === 0
      ? "- p99 never worse than upstream: met."
      : `- p99 never worse than upstream: missed in ${worse
          .map(
            (r) => `${r.kind}@${String(r.concurrency)} (${ratio(r.ours.p99Ms, r.upstream.p99Ms)}×)`,
          )
          .join(", ")}.`,
  );
  return lines.join("\n");
}

export const queries: Scenario = {
  name: "queries",
  async run(ctx) {
    const seconds = Number(process.env["BENCH_QUERIES_SECONDS"] ?? "10");
    const concurrencies = envList("BENCH_QUERIES_CONCURRENCY", "1,16,64").map(Number);
    const wanted = envList("BENCH_QUERIES_KINDS", REQUEST_KINDS.map((k) => k.id).join(","));
    const kinds = REQUEST_KINDS.filter((k) => wanted.includes(k.id));
    // Each run is about `seconds` plus a warm-up; three targets per row; generous margin.
    const horizonMs =
      Math.max(30, kinds.length * concurrencies.length * 3 * (seconds + 5) * 2) * 1000 +
      20 * 60_000;
    const f = await setUp(ctx, horizonMs);
    const adapters: RunningBenchAdapter[] = [];
    try {
      ctx.log("capturing the PromQL our adapter sends per request kind");
      const floors = await capturePromQl(ctx, f, kinds);
      const start = (impl: Implementation) =>
        startAdapter(impl, {
          info: ctx.info,
          config: f.config,
          prometheusUrl: f.prom.url,
          extraArgs: CLIENT_LIMITS,
        });
      const ours = await start("ours");
      adapters.push(ours);
      const upstream = await start("upstream");
      adapters.push(upstream);
      for (const a of [ours, upstream]) {
        for (const k of kinds) checkItems(a.implementation, k, await waitForOk(a, k.path));
      }
      // What every request pays before any work: HTTP/2 over TLS, authentication and the cached
      // authorization, measured on the group document (tiny, authorized, no Prometheus).
      const transport = new Map<Implementation, LoadResult>();
      for (const a of [ours, upstream]) {
        transport.set(
          a.implementation,
          await runLoad(
            asAggregator(a, f),
            { path: TRANSPORT_PATH },
            { concurrency: 1, durationMs: seconds * 1000, requests: 1_000_000, warmupRequests: 10 },
          ),
        );
      }
      ctx.log(
        `transport c=1: ours p50 ${ms(transport.get("ours")?.p50Ms ?? NaN)} ms, upstream ${ms(transport.get("upstream")?.p50Ms ?? NaN)} ms`,
      );
      const rows: QueriesRow[] = [];
      for (const k of kinds) {
        for (const c of concurrencies) {
          const floor = await runLoad(
            { origin: f.prom.url, protocol: "http1" },
            floors.get(k.id) ?? [],
            { concurrency: c, durationMs: seconds * 1000, requests: 1_000_000 },
          );
          const o = await measureAdapter(ours, f, k, c, seconds);
          const u = await measureAdapter(upstream, f, k, c, seconds);
          ctx.log(
            `${k.id} c=${String(c)}: floor p50 ${ms(floor.p50Ms)} ms; ours p50 ${ms(o.p50Ms)} p99 ${ms(o.p99Ms)} ${o.reqPerSec.toFixed(0)}/s; upstream p50 ${ms(u.p50Ms)} p99 ${ms(u.p99Ms)} ${u.reqPerSec.toFixed(0)}/s`,
          );
          rows.push({ kind: k.id, label: k.label, concurrency: c, floor, ours: o, upstream: u });
        }
      }
      const floorNote = kinds
        .map(
          (k) =>
            `${k.id}: ${String(floors.get(k.id)?.length ?? 0)} ${floors.get(k.id)?.[0]?.method ?? "GET"}`,
        )
        .join(", ");
      const base = memoryBaseline();
      return {
        json: {
          seconds,
          concurrencies,
          nodeOptions: deployedNodeOptions(),
          v8Flags: binV8Flags(),
          rows,
          transport: Object.fromEntries(transport),
        },
        markdown: `## Queries (HPA-shaped requests over HTTPS, authenticated and authorized)

${deployedSentence()} Peak RSS is VmHWM, reset before each cell (so a cell starts from what the one before left resident). The machine's 2 cores are shared with other work: latency, req/s and CPU figures are noisy; RSS is not.

Closed loop for ${String(seconds)} s per cell at concurrency c over one HTTP/2 connection (as the aggregator), front-proxy certificate and an ordinary RBAC user (SubjectAccessReviews, cached 10 s by both). Floor: the PromQL our adapter sends for the request, straight to Prometheus over keep-alive HTTP/1.1 (queries per request: ${floorNote}). "Prometheus queries/request" counts Prometheus' own \`/api/v1/query\` requests per adapter request (below 1: identical in-flight queries were shared). Both adapters run with \`--client-qps=1000 --client-burst=2000\` (upstream's default, 5/s, would cap its \`pods/*\` answers at 5/s). Pod objects: ${String(PODS)} in the API server; upstream lists the selected pods from it for every \`pods/*\` request and reads metrics.k8s.io pods from an informer; ours reads both from its watched pod cache. Below 1 Prometheus query per request at c ≥ 16: identical in-flight queries shared and concurrent requests grouped; that also makes the floor, which sends every query, slower than ours there.

${tables(rows)}
${transportNote(rows, transport)}
${goals(rows)}
${base ? `\n${memoryTable(rows, base)}\n` : ""}`,
      };
    } finally {
      for (const a of adapters) await a.stop();
      await f.stop();
    }
  },
};

// ---------------------------------------------------------------------------------------------
// Profile

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds on the monotonic clock (V8 TimeTicks: CLOCK_MONOTONIC, as process.hrtime). */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Now on the monotonic clock V8 stamps profiles with, in microseconds. */
function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export interface SelfTime {
  readonly fn: string;
  readonly location: string;
  readonly ms: number;
  readonly share: number;
}

/**
 * Self time by function and location, from a V8 .cpuprofile (sample time deltas); only samples
 * inside `window` (monotonic µs) when given, e.g. to leave start-up out.
 */
export function selfTimes(
  profile: CpuProfile,
  root: string,
  window?: { readonly fromUs: number; readonly toUs: number },
): { total: number; top: SelfTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const acc = new Map<string, { fn: string; location: string; us: number }>();
  let total = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i] ?? -1);
    // V8 stamps each sample with the time since the previous one: charge it to this sample.
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    if (!node) continue;
    const fn = node.callFrame.functionName || "(anonymous)";
    if (fn === "(idle)" || fn === "(root)") continue;
    total += us;
    let url = node.callFrame.url.replace(/^file:\/\//, "");
    if (url.startsWith(root)) url = url.slice(root.length + 1);
    const location = url === "" ? "" : `${url}:${String(node.callFrame.lineNumber + 1)}`;
    const key = `${fn}\u0000${location}`;
    const e = acc.get(key);
    if (e) e.us += us;
    else acc.set(key, { fn, location, us });
  }
  const top = [...acc.values()]
    .sort((a, b) => b.us - a.us)
    .map((e) => ({ fn: e.fn, location: e.location, ms: e.us / 1000, share: e.us / total }));
  return { total: total / 1000, top };
}

interface ProfileRun {
  readonly load: AdapterRun;
  readonly file: string;
  readonly totalMs: number;
  readonly top: readonly { fn: string; location: string; ms: number; share: number }[];
}

/** One profiled run of `main` (default: this tree's build) under the given load. */
async function profileOnce(
  ctx: Parameters<Scenario["run"]>[0],
  f: Awaited<ReturnType<typeof setUp>>,
  o: { kind: RequestKind; concurrency: number; seconds: number; main: string | undefined },
): Promise<ProfileRun> {
  const parent = process.env["BENCH_PROFILE_DIR"] ?? tmpdir();
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, "kcm-bench-prof-"));
  const ours = await startAdapter("ours", {
    info: ctx.info,
    config: f.config,
    prometheusUrl: f.prom.url,
    nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`],
    ...(o.main === undefined ? {} : { main: o.main }),
  });
  let load: AdapterRun;
  let window: { fromUs: number; toUs: number };
  try {
    checkItems("ours", o.kind, await waitForOk(ours, o.kind.path));
    const fromUs = monotonicUs();
    load = await measureAdapter(ours, f, o.kind, o.concurrency, o.seconds);
    window = { fromUs, toUs: monotonicUs() };
  } finally {
    // The profile is written when the process exits.
    await ours.stop();
  }
  const file = readdirSync(dir)
    .filter((n) => n.endsWith(".cpuprofile"))
    .map((n) => join(dir, n))
    .pop();
  if (file === undefined) throw new Error(`no .cpuprofile written in ${dir}`);
  ctx.log(`profile${o.main === undefined ? "" : ` of ${o.main}`}: ${file}`);
  // Only the load: start-up (module loading, first discovery) is left out.
  const { total, top } = selfTimes(
    JSON.parse(readFileSync(file, "utf8")) as CpuProfile,
    resolve("."),
    window,
  );
  return { load, file, totalMs: total, top: top.slice(0, 40) };
}

function profileTable(run: ProfileRun): string {
  const rows = run.top
    .slice(0, 15)
    .map(
      (t, i) =>
        `| ${String(i + 1)} | \`${t.fn}\` | ${t.location === "" ? "–" : `\`${t.location}\``} | ${t.ms.toFixed(0)} ms | ${(t.share * 100).toFixed(1)} % |`,
    );
  const l = run.load;
  return `${l.reqPerSec.toFixed(0)} req/s, p50 ${ms(l.p50Ms)} ms, p99 ${ms(l.p99Ms)} ms (profiling slows the process); ${(run.totalMs / Math.max(1, l.requests)).toFixed(3)} ms of non-idle samples per request (${run.totalMs.toFixed(0)} ms in all). Top 15 functions by self time:

| # | function | location | self | share |
| ---: | --- | --- | ---: | ---: |
${rows.join("\n")}
`;
}

export const profile: Scenario = {
  name: "profile",
  async run(ctx) {
    const seconds = Number(process.env["BENCH_PROFILE_SECONDS"] ?? "15");
    const concurrency = Number(process.env["BENCH_PROFILE_CONCURRENCY"] ?? "1");
    const kindId = process.env["BENCH_PROFILE_KIND"] ?? "pods-100";
    const kind = REQUEST_KINDS.find((k) => k.id === kindId);
    if (kind === undefined) throw new Error(`BENCH_PROFILE_KIND: no request kind ${kindId}`);
    // BENCH_PROFILE_BEFORE: an older build's bin/k8s-custom-metrics.js, profiled first.
    const beforeMain = process.env["BENCH_PROFILE_BEFORE"];
    const beforeLabel = process.env["BENCH_PROFILE_BEFORE_LABEL"] ?? beforeMain;
    const f = await setUp(ctx, 30 * 60_000);
    try {
      const o = { kind, concurrency, seconds };
      const before =
        beforeMain === undefined
          ? undefined
          : await profileOnce(ctx, f, { ...o, main: beforeMain });
      const now = await profileOnce(ctx, f, { ...o, main: undefined });
      const head = `## Profile (ours, ${kind.label}, concurrency ${String(concurrency)}, \`node --cpu-prof\`)

${String(seconds)} s of closed-loop load (after a warm-up request; samples outside the load, such as start-up, left out), ours started as in the Queries section with \`--cpu-prof\`.`;
      const parts =
        before === undefined
          ? [head, profileTable(now)]
          : [
              head,
              `### Before (${beforeLabel ?? ""})`,
              profileTable(before),
              "### Now (this tree)",
              profileTable(now),
            ];
      return {
        json: { seconds, concurrency, kind: kind.id, beforeLabel, before, now },
        markdown: parts.join("\n\n"),
      };
    } finally {
      await f.stop();
    }
  },
};
