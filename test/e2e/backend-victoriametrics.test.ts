/**
 * @module test/backend-victoriametrics
 * VictoriaMetrics (single node, Debian's `victoria-metrics`, default flags) as the adapter's
 * backend, for real. The differential test's world and series (test/support/differential-corpus.ts)
 * go to a plain Prometheus (promtool backfill) and to VictoriaMetrics (`/api/v1/import/prometheus`);
 * our adapter runs on each with the same config, and every request of the corpus (custom,
 * external, metrics.k8s.io) must give the same status and JSON through both, discovery documents
 * included. The differences VictoriaMetrics makes are asserted one by one (docs/backends.md).
 *
 * Also prometheus-adapter #668: VictoriaMetrics refuses queries over `-search.maxQueryLen` (16384
 * bytes by default) with 422, and a `*` request over many pods renders one longer than that. Query
 * grouping splits such requests and batches (--prometheus-max-query-length, default 16384), so
 * they are answered, by queries that each stay within the limit. Loopback only.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import {
  Cleanup,
  endpoints,
  matchersSent,
  promqlOf,
  startComparison,
  startVictoriaMetrics,
  type Comparison,
  type RunningBackend,
} from "../support/backends.ts";
import { freshNamespace, kubectl, testCluster } from "../support/cluster.ts";
import {
  CM,
  corpusOpenMetrics,
  createCorpusWorld,
  deleteCorpusWorld,
  differentialCorpus,
  writeCorpusConfig,
  type Answer,
  type CorpusWorld,
} from "../support/differential-corpus.ts";
import { applyObjects } from "../support/objects.ts";
import { startPrometheus, type RunningPrometheus } from "../support/prometheus.ts";

const T = { timeout: 300_000 };
/** VictoriaMetrics' default -search.maxQueryLen, and our default --prometheus-max-query-length. */
const MAX_QUERY_LEN = 16_384;
/** Pods with long names in their own namespace: a `*` over them renders a query over the limit. */
const LONG_PODS = 120;
const SHARDS = 4;

let info: ClusterInfo;
let world: CorpusWorld;
let longNs: string;
let longPods: string[];
let prom: RunningPrometheus;
let vm: RunningBackend;
let c: Comparison;

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

/** `diff_long_load` for the long-named pods (value i), on the corpus' time grid. */
function longSeries(): string {
  const now = Math.floor(Date.now() / 1000);
  const lines = ["# TYPE diff_long_load gauge"];
  for (let t = now - 600; t <= now + 1200; t += 30) {
    longPods.forEach((pod, i) => {
      lines.push(`diff_long_load{namespace="${longNs}",pod="${pod}"} ${String(i)} ${String(t)}`);
    });
  }
  return `${lines.join("\n")}\n`;
}

const cleanup = new Cleanup();

before(async () => {
  info = await testCluster();
  world = await createCorpusWorld(info, "kcm-vm");
  cleanup.defer(() => deleteCorpusWorld(info, world));
  longNs = await freshNamespace(info, "kcm-vm-long");
  cleanup.defer(() => kubectl(info, ["delete", "namespace", longNs, "--wait=false"]));
  // ~200-character names (a pod name may have 253); bound to a node that does not exist, so
  // nothing runs them: custom metrics list pods whatever their phase.
  longPods = Array.from(
    { length: LONG_PODS },
    (_, i) => `long-${String(i).padStart(3, "0")}-${"x".repeat(190)}`,
  );
  await applyObjects(
    info,
    longPods.map((name, i) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, labels: { app: "long", shard: String(i % SHARDS) } },
      spec: {
        nodeName: "kcm-nowhere",
        containers: [{ name: "app", image: "example.com/not-runnable:1" }],
      },
    })),
    longNs,
  );
  const openMetrics = corpusOpenMetrics(world).replace(/# EOF\n$/, `${longSeries()}# EOF\n`);
  prom = cleanup.stops(await startPrometheus({ openMetrics }));
  vm = cleanup.stops(await startVictoriaMetrics({ openMetrics }));
  c = cleanup.stops(
    await startComparison({
      world,
      kubeconfig: info.kubeconfig,
      config: writeCorpusConfig(),
      prometheusUrl: prom.url,
      backendUrl: vm.url,
    }),
  );
});

after(() => cleanup.run());

function assertSame(p: { ref: Answer; got: Answer }, path: string): void {
  const r = `${String(p.ref.status)} ${p.ref.text}`;
  const g = `${String(p.got.status)} ${p.got.text}`;
  if (r === g) return;
  assert.fail(
    [
      `GET ${path}`,
      `on Prometheus: ${r}`,
      `on VictoriaMetrics: ${g}`,
      `PromQL: ${JSON.stringify(promqlOf(p.got.prom))}`,
    ].join("\n"),
  );
}

/** Discovery resources without the NaN-only metric, which VictoriaMetrics never stores. */
function withoutNanGauge(a: Answer): string {
  const body = a.body as { resources?: { name: string }[] };
  return JSON.stringify(
    { ...body, resources: body.resources?.filter((r) => !r.name.endsWith("/nan_gauge")) },
    null,
    1,
  );
}

const names = (a: Answer) =>
  (a.body as { resources?: { name: string }[] }).resources?.map((r) => r.name) ?? [];

/**
 * Where VictoriaMetrics answers otherwise, and how: each asserts the difference itself.
 * VictoriaMetrics drops NaN samples (other than Prometheus' staleness marker) on ingestion, so
 * `diff_nan_gauge`, whose only samples are NaN, does not exist there.
 */
const DIFFERENCES: Record<string, (p: { ref: Answer; got: Answer }) => void> = {
  "discovery custom v1beta1": (p) => {
    assert.ok(names(p.ref).includes("pods/nan_gauge"), p.ref.text);
    assert.ok(!names(p.got).includes("pods/nan_gauge"), p.got.text);
    assert.equal(withoutNanGauge(p.got), withoutNanGauge(p.ref));
  },
  "discovery custom v1beta2": (p) => {
    assert.ok(names(p.ref).includes("pods/nan_gauge"), p.ref.text);
    assert.equal(withoutNanGauge(p.got), withoutNanGauge(p.ref));
  },
  "NaN sample gives 0": (p) => {
    assert.equal(p.ref.status, 200, p.ref.text);
    assert.match(p.ref.text, /"value": "0"/);
    assert.equal(p.got.status, 404, p.got.text);
    assert.match(p.got.text, /the server could not find the metric nan_gauge for pods/);
  },
};

describe("VictoriaMetrics: the differential corpus answers as on Prometheus", () => {
  test("every listed difference is a request of the corpus", () => {
    const corpus = new Set(differentialCorpus.map(([name]) => name));
    for (const name of Object.keys(DIFFERENCES)) assert.ok(corpus.has(name), name);
  });
  for (const [name, path, bug] of differentialCorpus) {
    test(name, bug === undefined ? T : { ...T, todo: bug }, async () => {
      const p = path(world);
      const answers = await c.both(p);
      const difference = DIFFERENCES[name];
      if (difference) difference(answers);
      else assertSame(answers, p);
    });
  }
});

describe("VictoriaMetrics: discovery through its label APIs", () => {
  test("names and label names with match[], never /api/v1/series", T, () => {
    const seen = endpoints(c.gotProxy.requests);
    assert.ok(seen.has("/api/v1/label/__name__/values"), [...seen].join(" "));
    assert.ok(seen.has("/api/v1/labels"), [...seen].join(" "));
    assert.ok(!seen.has("/api/v1/series"), [...seen].join(" "));
    const perName = matchersSent(c.gotProxy.requests, "/api/v1/labels");
    assert.ok(
      perName.some((m) => m.includes('__name__="diff_cpu_load"')),
      perName.join(" "),
    );
    // The same requests as on Prometheus, less the NaN-only metric VictoriaMetrics never stored.
    const sent = (r: typeof c.refProxy.requests, e: string) =>
      [...new Set(matchersSent(r, e))].sort();
    for (const e of ["/api/v1/labels", "/api/v1/label/__name__/values"]) {
      assert.deepEqual(
        sent(c.gotProxy.requests, e),
        sent(c.refProxy.requests, e).filter((m) => !m.includes("diff_nan_gauge")),
        e,
      );
    }
  });
});

describe("VictoriaMetrics: queries stay within -search.maxQueryLen (prometheus-adapter #668)", () => {
  const path = () => `${CM}/v1beta1/namespaces/${longNs}/pods/*/long_load`;

  test("the unsplit query is refused: 422 too long query", T, async () => {
    const query = `sum(diff_long_load{namespace="${longNs}",pod=~"${longPods.join("|")}"}) by (pod)`;
    assert.ok(bytes(query) > MAX_QUERY_LEN, String(bytes(query)));
    const res = await fetch(`${vm.url}/api/v1/query`, {
      method: "POST",
      body: new URLSearchParams({ query }),
    });
    const text = await res.text();
    assert.equal(res.status, 422, text);
    assert.match(text, /maxQueryLen/);
  });

  test(`a * request over ${String(LONG_PODS)} long-named pods: answered, split`, T, async () => {
    const p = await c.both(path());
    assert.equal(p.got.status, 200, p.got.text);
    assertSame(p, path());
    const items = (p.got.body as { items: { describedObject: { name: string }; value: string }[] })
      .items;
    assert.equal(items.length, LONG_PODS);
    for (const item of items) {
      assert.equal(item.value, String(longPods.indexOf(item.describedObject.name)));
    }
    const queries = promqlOf(p.got.prom);
    assert.ok(queries.length >= 2, queries.join("\n"));
    for (const q of queries) assert.ok(bytes(q) <= MAX_QUERY_LEN, String(bytes(q)));
    // Every pod is named in exactly one of them.
    const named = queries.flatMap((q) => longPods.filter((n) => q.includes(n)));
    assert.deepEqual([...named].sort(), [...longPods].sort());
    // \b: a log line's millisecond timestamp may end in 422 (it did, in CI).
    assert.doesNotMatch(c.got.logs(), /\b422\b|maxQueryLen|too long query/);
  });

  test(`a burst of ${String(SHARDS)} * requests: batched within the limit`, T, async () => {
    const paths = Array.from(
      { length: SHARDS },
      (_, k) => `${path()}?labelSelector=shard%3D${String(k)}`,
    );
    const burst = async (url: string) =>
      Promise.all(
        paths.map(async (p) => {
          const res = await fetch(`${url}${p}`, { signal: AbortSignal.timeout(30_000) });
          return { status: res.status, text: await res.text() };
        }),
      );
    const from = c.gotProxy.requests.length;
    const got = await burst(c.got.url);
    const ref = await burst(c.ref.url);
    const strip = (t: string) => t.replace(/"timestamp":"[^"]+"/g, "");
    got.forEach((g, k) => {
      assert.equal(g.status, 200, g.text);
      assert.equal(strip(g.text), strip(ref[k]?.text ?? ""), paths[k]);
      assert.equal((JSON.parse(g.text) as { items: unknown[] }).items.length, LONG_PODS / SHARDS);
    });
    const queries = promqlOf(c.gotProxy.requests.slice(from));
    for (const q of queries) assert.ok(bytes(q) <= MAX_QUERY_LEN, String(bytes(q)));
  });
});
