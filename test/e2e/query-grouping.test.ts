/**
 * @module test/query-grouping
 * Query grouping end to end: two real adapters over one real, backfilled Prometheus and the shared
 * local cluster's API server, one with grouping off (the reference: one query per request, as
 * prometheus-adapter) and one with the default. Many concurrent `pods/*`, named-pod and namespace
 * requests in several namespaces must get exactly the reference's answers (status and JSON, only
 * timestamps normalized) while the grouping adapter sends far fewer queries, and a query shape that
 * is not exact (`offset`) must still be sent once per request. Recording proxies count the queries;
 * the grouping adapter's proxy delays each request so concurrent requests surely overlap.
 *
 * Values are chosen so every query's result is exact at any evaluation time: constant gauges
 * (sum, max, avg_over_time) and counters growing by whole numbers per 15 s sample (irate).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import {
  getJson,
  normalizeTimestamps,
  startAdapter,
  type RunningAdapter,
} from "../support/adapter.ts";
import { freshNamespace, kubectl, testCluster, waitFor } from "../support/cluster.ts";
import { applyObjects } from "../support/objects.ts";
import {
  startPrometheus,
  startRecordingProxy,
  type RecordedRequest,
  type RecordingProxy,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { OpenMetricsWriter } from "../support/series.ts";

const T = { timeout: 240_000 };
const CM = "/apis/custom.metrics.k8s.io";
const ROUNDS = 3;

const CONFIG = `rules:
  - seriesQuery: '{__name__="kcmqg_load",namespace!="",pod!=""}'
    resources: { overrides: { namespace: { resource: namespace }, pod: { resource: pod } } }
    name: { matches: "^kcmqg_(.*)$" }
    metricsQuery: "max(sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>, container)) by (<<.GroupBy>>)"
  - seriesQuery: '{__name__="kcmqg_requests_total",namespace!="",pod!=""}'
    resources: { overrides: { namespace: { resource: namespace }, pod: { resource: pod } } }
    name: { matches: "^kcmqg_(.*)_total$", as: "\${1}_per_second" }
    metricsQuery: "sum(irate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)"
  - seriesQuery: '{__name__="kcmqg_mem",namespace!="",pod!=""}'
    resources: { overrides: { namespace: { resource: namespace }, pod: { resource: pod } } }
    name: { matches: "^kcmqg_(.*)$" }
    metricsQuery: "sum(avg_over_time(<<.Series>>{<<.LabelMatchers>>,container!=\\"POD\\"}[5m])) by (<<.GroupBy>>)"
  # Not exact to group (offset): keeps one query per request.
  - seriesQuery: '{__name__="kcmqgx_queue",namespace!="",pod!=""}'
    resources: { overrides: { namespace: { resource: namespace }, pod: { resource: pod } } }
    name: { matches: "^kcmqgx_(.*)$" }
    metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>} offset 1m) by (<<.GroupBy>>)"
`;

/** Pods per namespace: name and app label. `a.b` and `axb` catch unescaped regexes. */
const PODS: readonly (readonly [string, string])[] = [
  ["web-1", "web"],
  ["web-2", "web"],
  ["web-3", "web"],
  ["api-1", "api"],
  ["a.b", "dot"],
  ["axb", "dot"],
];
/** Long names, different per namespace, so a union of two namespaces passes 8 KiB (POST). */
const longPods = (i: number): string[] =>
  Array.from({ length: 30 }, (_, k) => `long-${String(i)}-${"x".repeat(150)}-${String(k)}`);

let info: ClusterInfo;
let namespaces: string[];
let dir: string;
let prom: RunningPrometheus;
let refProxy: RecordingProxy;
let groupProxy: RecordingProxy;
let reference: RunningAdapter;
let grouping: RunningAdapter;

/** Every series: per namespace and pod (and a ghost pod), two containers. */
function openMetrics(): string {
  const now = Math.floor(Date.now() / 1000);
  const t0 = now - 600;
  const w = new OpenMetricsWriter();
  namespaces.forEach((ns, n) => {
    const pods = [...PODS.map(([p]) => p), "ghost", ...(n < 2 ? longPods(n) : [])];
    pods.forEach((pod, p) => {
      // Long-named pods only serve the POST check, on one metric.
      const only = pod.startsWith("long-") ? "kcmqg_load" : undefined;
      for (const c of [0, 1]) {
        const ls = `namespace="${ns}",pod="${pod}",container="c${String(c)}"`;
        // Distinct, exactly representable values: quarters.
        const load = (n + 1) * 100 + p * 4 + c + 0.25;
        for (let t = t0; t <= now + 900; t += 15) {
          w.sample("kcmqg_load", ls, load, t);
          if (only) continue;
          w.sample("kcmqg_mem", ls, load * 2, t);
          w.sample("kcmqgx_queue", ls, load + 0.5, t);
          // Whole increments per sample: irate is exact wherever the window falls.
          const step = (n + 1) * (p + 1) + c;
          w.sample("kcmqg_requests_total", ls, ((t - t0) / 15) * step, t);
        }
      }
    });
  });
  return w.text();
}

/** Pod objects bound to a node that does not exist, so no node agent runs them. */
function podObjects(n: number): unknown[] {
  const pods: [string, string][] = [...PODS.map(([p, a]) => [p, a] as [string, string])];
  if (n < 2) for (const p of longPods(n)) pods.push([p, "long"]);
  return pods.map(([name, app]) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app } },
    spec: { nodeName: "kcm-query-grouping-nowhere", containers: [{ name: "c", image: "none" }] },
  }));
}

/** Every request of one round. */
function requests(): string[] {
  const out: string[] = [];
  namespaces.forEach((ns, n) => {
    for (const m of ["load", "requests_per_second", "mem", "queue"]) {
      for (const sel of ["app=web", "app=api", "app=dot", "", "app in (web,dot)"]) {
        const q = sel === "" ? "" : `?labelSelector=${encodeURIComponent(sel)}`;
        const v = sel.includes("in") ? "v1beta2" : "v1beta1";
        out.push(`${CM}/${v}/namespaces/${ns}/pods/*/${m}${q}`);
      }
      out.push(`${CM}/v1beta1/namespaces/${ns}/pods/a.b/${m}`);
      out.push(`${CM}/v1beta2/namespaces/${ns}/pods/web-2/${m}`);
    }
    // A pod without series, and one that does not exist: 404 from both.
    out.push(`${CM}/v1beta1/namespaces/${ns}/pods/nope/load`);
    out.push(`${CM}/v1beta1/namespaces/${ns}/metrics/load`);
    out.push(`${CM}/v1beta2/namespaces/${ns}/metrics/mem`);
    if (n < 2) out.push(`${CM}/v1beta1/namespaces/${ns}/pods/*/load?labelSelector=app%3Dlong`);
  });
  return out;
}

function queriesOf(rs: readonly RecordedRequest[]): { query: string; method: string }[] {
  return rs.flatMap((r) => {
    const url = new URL(r.url, "http://x");
    if (url.pathname !== "/api/v1/query") return [];
    const params = r.method === "POST" ? new URLSearchParams(r.body) : url.searchParams;
    return [{ query: params.get("query") ?? "", method: r.method }];
  });
}

function text(r: { status: number; body: unknown }): string {
  return `${String(r.status)} ${JSON.stringify(normalizeTimestamps(r.body))}`;
}

before(async () => {
  info = await testCluster();
  const started = Date.now();
  const mark = (what: string) => {
    process.stderr.write(`query-grouping: ${what} after ${String(Date.now() - started)} ms\n`);
  };
  namespaces = [];
  for (let i = 0; i < 4; i++) namespaces.push(await freshNamespace(info, `kcm-qg${String(i)}`));
  await Promise.all(namespaces.map((ns, n) => applyObjects(info, podObjects(n), ns)));
  await waitFor("the pods", async () => {
    const names = await kubectl(info, ["-n", namespaces[1] ?? "", "get", "pods", "-o", "name"]);
    return names.trim().split("\n").length === PODS.length + 30 ? true : undefined;
  });
  mark("pods");
  dir = await mkdtemp(join(tmpdir(), "kcm-qg-"));
  const config = join(dir, "config.yaml");
  await writeFile(config, CONFIG);
  prom = await startPrometheus({ openMetrics: openMetrics() });
  mark("prometheus");
  refProxy = await startRecordingProxy(prom.url);
  groupProxy = await startRecordingProxy(prom.url, { delayMs: 25 });
  const common = { kubeconfig: info.kubeconfig, config, relistInterval: "1m", maxAge: "1h" };
  [reference, grouping] = await Promise.all([
    startAdapter({
      ...common,
      prometheusUrl: refProxy.url,
      extraArgs: ["--query-grouping-max-objects=0"],
    }),
    startAdapter({ ...common, prometheusUrl: groupProxy.url }),
  ]);
  mark("adapters");
});

after(async () => {
  await Promise.allSettled([reference.stop(), grouping.stop()]);
  await Promise.allSettled([refProxy.stop(), groupProxy.stop()]);
  await prom.stop();
  await rm(dir, { recursive: true, force: true });
  for (const ns of namespaces) {
    await kubectl(info, ["delete", "namespace", ns, "--wait=false"]).catch(() => "");
  }
});

describe("query grouping", () => {
  test("concurrent requests get the ungrouped answers from fewer queries", T, async () => {
    const paths = requests();
    // The reference, one request at a time: one query per request, nothing coalesced.
    const refFrom = refProxy.requests.length;
    const expected = new Map<string, string>();
    for (const p of paths) expected.set(p, text(await getJson(reference, p)));
    const refQueries = queriesOf(refProxy.requests.slice(refFrom));
    assert.ok(
      [...expected.values()].filter((t) => t.startsWith("200 ")).length > paths.length / 2,
      "most requests have values",
    );
    assert.ok(
      refQueries.every((q) => !q.query.includes(",namespace)")),
      "reference never groups",
    );

    const from = groupProxy.requests.length;
    for (let round = 0; round < ROUNDS; round++) {
      const got = await Promise.all(paths.map(async (p) => [p, text(await getJson(grouping, p))]));
      for (const [p, t] of got) assert.equal(t, expected.get(p ?? ""), p);
    }
    const queries = queriesOf(groupProxy.requests.slice(from));
    const grouped = queries.filter((q) => /by \(pod,(container,)?namespace\)/.test(q.query));
    const offset = queries.filter((q) => q.query.includes("offset"));
    const refOffset = refQueries.filter((q) => q.query.includes("offset"));
    process.stderr.write(
      `query-grouping: ${String(ROUNDS * refQueries.length)} queries ungrouped, ` +
        `${String(queries.length)} grouped (${String(grouped.length)} unions, ` +
        `${String(queries.filter((q) => q.method === "POST").length)} POST)\n`,
    );
    assert.ok(grouped.length > 0, "some queries are unions");
    // Requests of the groupable metrics: at least 3x fewer queries (the first request of a burst
    // goes alone, the rest in a few unions).
    const groupable = queries.length - offset.length;
    const groupableRef = ROUNDS * (refQueries.length - refOffset.length);
    assert.ok(
      groupable * 3 <= groupableRef,
      `${String(groupable)} queries vs ${String(groupableRef)} ungrouped`,
    );
    // The offset shape is not grouped: exactly its requests' queries, every round.
    assert.equal(offset.length, ROUNDS * refOffset.length);
    assert.ok(offset.every((q) => !q.query.includes("namespace=~")));
    // A union of two namespaces' long names is past 8 KiB: sent as a POST form.
    assert.ok(
      grouped.some(
        (q) => q.method === "POST" && q.query.includes("long-0-") && q.query.includes("long-1-"),
      ),
      "a long union went out as POST",
    );

    const metrics = await (await fetch(`${grouping.url}/metrics`)).text();
    const value = (name: string) =>
      Number(new RegExp(`^${name} (\\S+)$`, "m").exec(metrics)?.[1] ?? "NaN");
    assert.ok(value('k8s_custom_metrics_custom_queries_total{mode="grouped"}') >= 1);
    assert.ok(
      value('k8s_custom_metrics_custom_query_requests_total{mode="grouped"}') >
        value('k8s_custom_metrics_custom_queries_total{mode="grouped"}'),
    );
  });
});
