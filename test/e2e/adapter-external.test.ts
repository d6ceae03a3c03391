/**
 * @module test/adapter-external
 * external.metrics.k8s.io end to end: the adapter as a real process with the fixture config, a
 * real Prometheus backfilled with known series, and a recording proxy between them for the exact
 * PromQL. Bodies are compared as exact JSON text with only timestamps normalized. Loopback only.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import {
  getJson,
  normalizeTimestamps,
  startAdapter,
  type RunningAdapter,
} from "../support/adapter.ts";
import { freshNamespace, kubectl, testCluster } from "../support/cluster.ts";
import {
  startPrometheus,
  startRecordingProxy,
  type RecordingProxy,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { constantSeries, type ConstantSeries } from "../support/series.ts";

const T = { timeout: 120_000 };
const CONFIG = fileURLToPath(new URL("../fixtures/adapter-config.yaml", import.meta.url));
const EM = "/apis/external.metrics.k8s.io/v1beta1";

let info: ClusterInfo;
let ns: string;
let prom: RunningPrometheus;
let proxy: RecordingProxy;
let adapter: RunningAdapter;

/** Constant gauges from 10 minutes ago to 20 minutes ahead, so "now" always finds them. */
function openMetrics(namespace: string): string {
  const series: ConstantSeries[] = [
    ["ext_queue_depth", { namespace, queue: "orders" }, "30"],
    ["ext_queue_depth", { namespace, queue: "mail" }, "4"],
    // Another namespace: a namespaced rule must not see it.
    ["ext_queue_depth", { namespace: "elsewhere", queue: "orders" }, "1000"],
    ["ext_global_backlog", { region: "eu" }, "5"],
    ["ext_global_backlog", { region: "us" }, "7.5"],
  ];
  return constantSeries(series);
}

async function get(path: string): Promise<{ status: number; body: unknown; queries: string[] }> {
  const from = proxy.requests.length;
  const r = await getJson(adapter, path);
  const queries = proxy.requests
    .slice(from)
    .filter((q) => q.url.startsWith("/api/v1/query?"))
    .map((q) => new URL(q.url, "http://x").searchParams.get("query") ?? "");
  return { ...r, queries };
}

/** Prometheus does not promise an order for a vector: sort items by their labels. */
function sortedItems(body: unknown): unknown {
  const b = body as { items?: { metricLabels: unknown }[] };
  if (!Array.isArray(b.items)) return body;
  const key = (i: { metricLabels: unknown }) => JSON.stringify(i.metricLabels);
  return { ...b, items: [...b.items].sort((x, y) => (key(x) < key(y) ? -1 : 1)) };
}

function assertJson(actual: unknown, expected: unknown): void {
  assert.equal(
    JSON.stringify(normalizeTimestamps(sortedItems(actual)), null, 1),
    JSON.stringify(expected, null, 1),
  );
}

function list(items: unknown[]) {
  return {
    kind: "ExternalMetricValueList",
    apiVersion: "external.metrics.k8s.io/v1beta1",
    metadata: {},
    items,
  };
}

function item(metricName: string, metricLabels: unknown, value: string) {
  return { metricName, metricLabels, timestamp: "<ts>", value };
}

function status(code: number, reason: string, message: string, details?: unknown) {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  };
}

before(async () => {
  info = await testCluster();
  ns = await freshNamespace(info, "kcm-adapter-external");
  prom = await startPrometheus({ openMetrics: openMetrics(ns) });
  proxy = await startRecordingProxy(prom.url);
  adapter = await startAdapter({
    prometheusUrl: proxy.url,
    kubeconfig: info.kubeconfig,
    config: CONFIG,
    relistInterval: "1m",
    maxAge: "1h",
  });
});

after(async () => {
  await adapter.stop();
  await proxy.stop();
  await prom.stop();
  await kubectl(info, ["delete", "namespace", ns, "--wait=false"]).catch(() => "");
});

test("discovery: every external metric, reported as namespaced", T, async () => {
  const r = await get(EM);
  assert.equal(r.status, 200);
  const b = r.body as { resources: { name: string }[] };
  const entry = (name: string) => ({
    name,
    singularName: "",
    namespaced: true,
    kind: "ExternalMetricValueList",
    verbs: ["get"],
  });
  assertJson(
    { ...b, resources: [...b.resources].sort((x, y) => (x.name < y.name ? -1 : 1)) },
    {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: "external.metrics.k8s.io/v1beta1",
      resources: [entry("ext_queue_depth"), entry("global_backlog")],
    },
  );
  const group = await get("/apis/external.metrics.k8s.io");
  assertJson(group.body, {
    kind: "APIGroup",
    apiVersion: "v1",
    name: "external.metrics.k8s.io",
    versions: [{ groupVersion: "external.metrics.k8s.io/v1beta1", version: "v1beta1" }],
    preferredVersion: { groupVersion: "external.metrics.k8s.io/v1beta1", version: "v1beta1" },
  });
  const apis = await get("/apis");
  assertJson(apis.body, {
    kind: "APIGroupList",
    groups: [
      {
        name: "custom.metrics.k8s.io",
        versions: [{ groupVersion: "custom.metrics.k8s.io/v1beta1", version: "v1beta1" }],
        preferredVersion: { groupVersion: "custom.metrics.k8s.io/v1beta1", version: "v1beta1" },
        serverAddressByClientCIDRs: [
          { clientCIDR: "0.0.0.0/0", serverAddress: `:${new URL(adapter.url).port}` },
        ],
      },
      {
        name: "external.metrics.k8s.io",
        versions: [{ groupVersion: "external.metrics.k8s.io/v1beta1", version: "v1beta1" }],
        preferredVersion: {
          groupVersion: "external.metrics.k8s.io/v1beta1",
          version: "v1beta1",
        },
        serverAddressByClientCIDRs: [
          { clientCIDR: "0.0.0.0/0", serverAddress: `:${new URL(adapter.url).port}` },
        ],
      },
    ],
  });
});

test("namespaced rule without labelSelector: the namespace is the only matcher", T, async () => {
  const r = await get(`${EM}/namespaces/${ns}/ext_queue_depth`);
  assert.equal(r.status, 200);
  assertJson(
    r.body,
    list([
      item("ext_queue_depth", { queue: "mail" }, "4"),
      item("ext_queue_depth", { queue: "orders" }, "30"),
    ]),
  );
  assert.deepEqual(r.queries, [`sum(ext_queue_depth{namespace="${ns}"}) by (queue)`]);
});

test("namespaced rule with labelSelector: selector matchers first, namespace last", T, async () => {
  const r = await get(`${EM}/namespaces/${ns}/ext_queue_depth?labelSelector=queue%3Dorders`);
  assert.equal(r.status, 200);
  assertJson(r.body, list([item("ext_queue_depth", { queue: "orders" }, "30")]));
  assert.deepEqual(r.queries, [
    `sum(ext_queue_depth{queue="orders",namespace="${ns}"}) by (queue)`,
  ]);
  // The same metric from another namespace sees that namespace's series only.
  const other = await get(`${EM}/namespaces/elsewhere/ext_queue_depth`);
  assertJson(other.body, list([item("ext_queue_depth", { queue: "orders" }, "1k")]));
});

test("namespaced: false ignores the request namespace", T, async () => {
  const r = await get(`${EM}/namespaces/${ns}/global_backlog`);
  assert.equal(r.status, 200);
  assertJson(
    r.body,
    list([
      item("global_backlog", { region: "eu" }, "5"),
      item("global_backlog", { region: "us" }, "7500m"),
    ]),
  );
  assert.deepEqual(r.queries, ["sum(ext_global_backlog{}) by (region)"]);
  const sel = await get(
    `${EM}/namespaces/default/global_backlog?labelSelector=${encodeURIComponent("region in (us,eu),tier!=gold")}`,
  );
  assertJson(
    sel.body,
    list([
      item("global_backlog", { region: "eu" }, "5"),
      item("global_backlog", { region: "us" }, "7500m"),
    ]),
  );
  assert.deepEqual(sel.queries, [
    'sum(ext_global_backlog{region=~"eu|us",tier!="gold"}) by (region)',
  ]);
});

test("no matching series: 200 with items []", T, async () => {
  const r = await get(`${EM}/namespaces/${ns}/ext_queue_depth?labelSelector=queue%3Dnone`);
  assert.equal(r.status, 200);
  assertJson(r.body, list([]));
});

test(
  "unknown external metric: upstream's 404 message, 'namespaces' only for default",
  T,
  async () => {
    const d = await get(`${EM}/namespaces/default/nope`);
    assert.equal(d.status, 404);
    assertJson(
      d.body,
      status(404, "NotFound", "the server could not find the metric nope for namespaces"),
    );
    const o = await get(`${EM}/namespaces/${ns}/nope`);
    assertJson(o.body, status(404, "NotFound", "the server could not find the metric nope for "));
    assert.deepEqual([...d.queries, ...o.queries], []);
  },
);

test("bad labelSelector: 400; unknown routes: 404 with details {}", T, async () => {
  const bad = await get(`${EM}/namespaces/${ns}/ext_queue_depth?labelSelector=a%20b`);
  assert.equal(bad.status, 400);
  assertJson(
    bad.body,
    status(
      400,
      "BadRequest",
      "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
    ),
  );
  for (const path of [
    `${EM}/namespaces/${ns}`,
    `${EM}/ext_queue_depth`,
    `${EM}/namespaces/${ns}/ext_queue_depth/extra`,
    "/apis/external.metrics.k8s.io/v1beta2/namespaces/x/ext_queue_depth",
  ]) {
    const r = await get(path);
    assert.equal(r.status, 404, path);
    assertJson(
      r.body,
      status(404, "NotFound", "the server could not find the requested resource", {}),
    );
  }
});
