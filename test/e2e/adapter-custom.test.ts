/**
 * @module test/adapter-custom
 * custom.metrics.k8s.io end to end: the adapter as a real process, a real Prometheus backfilled
 * with known series, and real objects (nginx pods, services, a deployment, a CRD created during
 * the test) in a fresh namespace of the shared local cluster. A recording proxy between adapter
 * and Prometheus shows the exact PromQL sent. Bodies are compared as exact JSON text (key order
 * included) with only timestamps normalized. Loopback only.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import {
  getJson,
  normalizeTimestamps,
  startAdapter,
  type RunningAdapter,
} from "../support/adapter.ts";
import { freshNamespace, kubectl, testCluster, waitFor } from "../support/cluster.ts";
import { applyObjects, waitForCrdEstablished, widgetCrd } from "../support/objects.ts";
import {
  startPrometheus,
  startRecordingProxy,
  type RecordingProxy,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { constantSeries, type ConstantSeries } from "../support/series.ts";

const T = { timeout: 120_000 };
const CONFIG = fileURLToPath(new URL("../fixtures/adapter-config.yaml", import.meta.url));
const CM = "/apis/custom.metrics.k8s.io";
// Unique per run: CRDs are cluster-wide.
const CRD_GROUP = `kcm${Date.now().toString(36)}.example.com`;

let info: ClusterInfo;
let ns: string;
let prom: RunningPrometheus;
let proxy: RecordingProxy;
let adapter: RunningAdapter;
let defaults: RunningAdapter;
let defaultsProxy: RecordingProxy;

/**
 * Constant gauges from 10 minutes ago to 20 minutes ahead every 30 s: an instant query at "now"
 * anywhere in the test run finds the same value, and discovery's `start` (now − max age) sees them.
 */
function openMetrics(namespace: string): string {
  const series: ConstantSeries[] = [
    ["kcm_cpu_load", { namespace, pod: "web-1" }, "0.25"],
    ["kcm_cpu_load", { namespace, pod: "web-2" }, "1.5"],
    ["kcm_cpu_load", { namespace, pod: "worker-1" }, "2000"],
    // A series for a pod that does not exist: `*` must not report it.
    ["kcm_cpu_load", { namespace, pod: "ghost-1" }, "7"],
    ["kcm_requests", { namespace, pod: "web-1", method: "GET" }, "10"],
    ["kcm_requests", { namespace, pod: "web-1", method: "POST" }, "5"],
    ["kcm_requests", { namespace, pod: "web-2", method: "GET" }, "20.5"],
    ["obj_connections", { namespace, service: "frontend" }, "42"],
    ["obj_connections", { namespace, service: "backend" }, "0.016"],
    ["obj_replicas_ready", { namespace, deployment: "web" }, "2000"],
    ["obj_namespace_load", { namespace }, "-1.5"],
    ["obj_widget_depth", { namespace, widget: "w1" }, "12"],
    // Counter that never moves: rate() is exactly 0 under the default rules.
    ["kcm_restarts_total", { namespace, pod: "web-1" }, "3"],
  ];
  return constantSeries(series);
}

function pod(name: string, app: string) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app } },
    spec: { containers: [{ name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] },
  };
}

function service(name: string) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ port: 80 }] },
  };
}

const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web" },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: "webdeploy" } },
    template: {
      metadata: { labels: { app: "webdeploy" } },
      spec: { containers: [{ name: "nginx", image: "nginx:1.27" }] },
    },
  },
};

const crd = widgetCrd(CRD_GROUP);

const apply = (objects: unknown[], namespace?: string) => applyObjects(info, objects, namespace);

/** The PromQL of every instant query the proxy saw since `from`. */
function queriesSince(p: RecordingProxy, from: number): string[] {
  return p.requests
    .slice(from)
    .filter((r) => r.url.startsWith("/api/v1/query?"))
    .map((r) => new URL(r.url, "http://x").searchParams.get("query") ?? "");
}

/** GET, with the PromQL it caused. */
async function get(
  path: string,
  a: RunningAdapter = adapter,
  p: RecordingProxy = proxy,
): Promise<{ status: number; body: unknown; queries: string[] }> {
  const from = p.requests.length;
  const r = await getJson(a, path);
  return { ...r, queries: queriesSince(p, from) };
}

/** Exact JSON text, key order included, timestamps normalized. */
function assertJson(actual: unknown, expected: unknown): void {
  assert.equal(
    JSON.stringify(normalizeTimestamps(actual), null, 1),
    JSON.stringify(expected, null, 1),
  );
}

const podRef = (name: string) => ({ kind: "Pod", namespace: ns, name, apiVersion: "/v1" });

function v1beta1Item(ref: unknown, metric: string, value: string, selector: unknown = null) {
  return { describedObject: ref, metricName: metric, timestamp: "<ts>", value, selector };
}

function v1beta2Item(ref: unknown, metric: string, value: string, selector: unknown = null) {
  return { describedObject: ref, metric: { name: metric, selector }, timestamp: "<ts>", value };
}

function list(version: string, items: unknown[]) {
  return {
    kind: "MetricValueList",
    apiVersion: `custom.metrics.k8s.io/${version}`,
    metadata: {},
    items,
  };
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

function resourceNames(body: unknown): string[] {
  const b = body as { resources: { name: string }[] };
  return b.resources.map((r) => r.name).sort();
}

before(async () => {
  info = await testCluster();
  ns = await freshNamespace(info, "kcm-adapter-custom");
  await apply(
    [
      pod("web-1", "web"),
      pod("web-2", "web"),
      pod("worker-1", "worker"),
      service("frontend"),
      service("backend"),
      deployment,
    ],
    ns,
  );
  await waitFor("the deployment's pod", async () => {
    const names = await kubectl(info, ["-n", ns, "get", "pods", "-o", "name"]);
    return names.trim().split("\n").length === 4 ? true : undefined;
  });
  prom = await startPrometheus({ openMetrics: openMetrics(ns) });
  proxy = await startRecordingProxy(prom.url);
  defaultsProxy = await startRecordingProxy(prom.url);
  // A short relist so the CRD test sees rediscovery quickly; backfilled series are old, so the
  // max age is wide.
  [adapter, defaults] = await Promise.all([
    startAdapter({
      prometheusUrl: proxy.url,
      kubeconfig: info.kubeconfig,
      config: CONFIG,
      relistInterval: "2s",
      maxAge: "1h",
    }),
    startAdapter({
      prometheusUrl: defaultsProxy.url,
      kubeconfig: info.kubeconfig,
      relistInterval: "1m",
      maxAge: "1h",
    }),
  ]);
});

after(async () => {
  await Promise.allSettled([adapter.stop(), defaults.stop()]);
  await Promise.allSettled([proxy.stop(), defaultsProxy.stop()]);
  await prom.stop();
  await kubectl(info, ["delete", "namespace", ns, "--wait=false"]).catch(() => "");
  await kubectl(info, ["delete", "crd", `widgets.${CRD_GROUP}`, "--ignore-not-found"]).catch(
    () => "",
  );
});

describe("custom metrics with a config file", () => {
  test("discovery lists every (resource, metric) with its scope", T, async () => {
    for (const version of ["v1beta1", "v1beta2"]) {
      const r = await get(`${CM}/${version}`);
      assert.equal(r.status, 200);
      const body = r.body as Record<string, unknown> & { resources: { name: string }[] };
      assert.equal(body["kind"], "APIResourceList");
      assert.equal(body["apiVersion"], "v1");
      assert.equal(body["groupVersion"], `custom.metrics.k8s.io/${version}`);
      const sorted = [...body.resources].sort((a, b) => (a.name < b.name ? -1 : 1));
      const entry = (name: string, namespaced: boolean) => ({
        name,
        singularName: "",
        namespaced,
        kind: "MetricValueList",
        verbs: ["get"],
      });
      assertJson(sorted, [
        entry("deployments.apps/obj_replicas_ready", true),
        entry("namespaces/cpu_load", false),
        entry("namespaces/obj_connections", false),
        entry("namespaces/obj_namespace_load", false),
        entry("namespaces/obj_replicas_ready", false),
        entry("namespaces/obj_widget_depth", false),
        entry("namespaces/requests", false),
        entry("namespaces/restarts_total", false),
        entry("pods/cpu_load", true),
        entry("pods/requests", true),
        entry("pods/restarts_total", true),
        entry("services/obj_connections", true),
      ]);
    }
  });

  test("the group document advertises v1beta1 only", T, async () => {
    const r = await get(CM);
    assertJson(r.body, {
      kind: "APIGroup",
      apiVersion: "v1",
      name: "custom.metrics.k8s.io",
      versions: [{ groupVersion: "custom.metrics.k8s.io/v1beta1", version: "v1beta1" }],
      preferredVersion: { groupVersion: "custom.metrics.k8s.io/v1beta1", version: "v1beta1" },
    });
  });

  test("v1beta1 pods/* with a labelSelector: listed pods, in list order", T, async () => {
    const r = await get(`${CM}/v1beta1/namespaces/${ns}/pods/*/cpu_load?labelSelector=app%3Dweb`);
    assert.equal(r.status, 200);
    assertJson(
      r.body,
      list("v1beta1", [
        v1beta1Item(podRef("web-1"), "cpu_load", "250m"),
        v1beta1Item(podRef("web-2"), "cpu_load", "1500m"),
      ]),
    );
    assert.deepEqual(r.queries, [
      `sum(kcm_cpu_load{namespace="${ns}",pod=~"web-1|web-2"}) by (pod)`,
    ]);
  });

  test(
    "v1beta2 pods/* (as %2A) without selector: objects without a value are left out",
    T,
    async () => {
      // Every pod of the namespace in the API server's list order, the deployment's pod included.
      const names = (
        await kubectl(info, ["-n", ns, "get", "pods", "-o", "jsonpath={.items[*].metadata.name}"])
      )
        .trim()
        .split(" ");
      assert.equal(names.length, 4);
      const r = await get(`${CM}/v1beta2/namespaces/${ns}/pods/%2A/cpu_load`);
      assert.equal(r.status, 200);
      // The deployment's pod has no series, so it is omitted; the series of the non-existent
      // ghost-1 is never asked for.
      assertJson(
        r.body,
        list("v1beta2", [
          v1beta2Item(podRef("web-1"), "cpu_load", "250m"),
          v1beta2Item(podRef("web-2"), "cpu_load", "1500m"),
          v1beta2Item(podRef("worker-1"), "cpu_load", "2k"),
        ]),
      );
      assert.deepEqual(r.queries, [
        `sum(kcm_cpu_load{namespace="${ns}",pod=~"${names.join("|")}"}) by (pod)`,
      ]);
    },
  );

  test("named pod, v1beta1 and v1beta2; singular resource name accepted", T, async () => {
    const r1 = await get(`${CM}/v1beta1/namespaces/${ns}/pods/worker-1/cpu_load`);
    assert.equal(r1.status, 200);
    assertJson(r1.body, list("v1beta1", [v1beta1Item(podRef("worker-1"), "cpu_load", "2k")]));
    assert.deepEqual(r1.queries, [`sum(kcm_cpu_load{namespace="${ns}",pod="worker-1"}) by (pod)`]);
    const r2 = await get(`${CM}/v1beta2/namespaces/${ns}/pod/web-2/cpu_load`);
    assert.equal(r2.status, 200);
    assertJson(r2.body, list("v1beta2", [v1beta2Item(podRef("web-2"), "cpu_load", "1500m")]));
  });

  test("named objects: services and deployments.apps", T, async () => {
    const svc = await get(`${CM}/v1beta1/namespaces/${ns}/services/frontend/obj_connections`);
    assert.equal(svc.status, 200);
    assertJson(
      svc.body,
      list("v1beta1", [
        v1beta1Item(
          { kind: "Service", namespace: ns, name: "frontend", apiVersion: "/v1" },
          "obj_connections",
          "42",
        ),
      ]),
    );
    assert.deepEqual(svc.queries, [
      `max(obj_connections{namespace="${ns}",service="frontend"}) by (service)`,
    ]);
    const all = await get(`${CM}/v1beta1/namespaces/${ns}/services/*/obj_connections`);
    assertJson(
      all.body,
      list("v1beta1", [
        v1beta1Item(
          { kind: "Service", namespace: ns, name: "backend", apiVersion: "/v1" },
          "obj_connections",
          "16m",
        ),
        v1beta1Item(
          { kind: "Service", namespace: ns, name: "frontend", apiVersion: "/v1" },
          "obj_connections",
          "42",
        ),
      ]),
    );
    const dep = await get(`${CM}/v1beta2/namespaces/${ns}/deployments.apps/web/obj_replicas_ready`);
    assert.equal(dep.status, 200);
    assertJson(
      dep.body,
      list("v1beta2", [
        v1beta2Item(
          { kind: "Deployment", namespace: ns, name: "web", apiVersion: "apps/v1" },
          "obj_replicas_ready",
          "2k",
        ),
      ]),
    );
    assert.deepEqual(dep.queries, [
      `max(obj_replicas_ready{namespace="${ns}",deployment="web"}) by (deployment)`,
    ]);
  });

  test("root-scoped namespaces/{ns}/metrics/{m}", T, async () => {
    const r = await get(`${CM}/v1beta1/namespaces/${ns}/metrics/obj_namespace_load`);
    assert.equal(r.status, 200);
    assertJson(
      r.body,
      list("v1beta1", [
        v1beta1Item(
          { kind: "Namespace", name: ns, apiVersion: "/v1" },
          "obj_namespace_load",
          "-1500m",
        ),
      ]),
    );
    assert.deepEqual(r.queries, [`max(obj_namespace_load{namespace="${ns}"}) by (namespace)`]);
    const r3 = await get(`${CM}/v1beta2/namespaces/${ns}/metrics/cpu_load`);
    assertJson(
      r3.body,
      list("v1beta2", [
        v1beta2Item({ kind: "Namespace", name: ns, apiVersion: "/v1" }, "cpu_load", "2008750m"),
      ]),
    );
  });

  test("metricLabelSelector becomes matchers and is echoed as selector", T, async () => {
    const eq = await get(
      `${CM}/v1beta1/namespaces/${ns}/pods/*/requests?labelSelector=app%3Dweb&metricLabelSelector=method%3DGET`,
    );
    assert.equal(eq.status, 200);
    const sel = { matchLabels: { method: "GET" } };
    assertJson(
      eq.body,
      list("v1beta1", [
        v1beta1Item(podRef("web-1"), "requests", "10", sel),
        v1beta1Item(podRef("web-2"), "requests", "20500m", sel),
      ]),
    );
    assert.deepEqual(eq.queries, [
      `sum(kcm_requests{method="GET",namespace="${ns}",pod=~"web-1|web-2"}) by (pod)`,
    ]);
    const inSel = await get(
      `${CM}/v1beta2/namespaces/${ns}/pods/web-1/requests?metricLabelSelector=${encodeURIComponent("method in (PUT,POST)")}`,
    );
    assert.equal(inSel.status, 200);
    const sel2 = { matchExpressions: [{ key: "method", operator: "In", values: ["POST", "PUT"] }] };
    assertJson(inSel.body, list("v1beta2", [v1beta2Item(podRef("web-1"), "requests", "5", sel2)]));
    assert.deepEqual(inSel.queries, [
      `sum(kcm_requests{method=~"POST|PUT",namespace="${ns}",pod="web-1"}) by (pod)`,
    ]);
    // Requirements are sorted by key; != and !k go to matchExpressions.
    const expr = await get(
      `${CM}/v1beta1/namespaces/${ns}/pods/web-1/requests?metricLabelSelector=${encodeURIComponent("!nolabel,method!=GET")}`,
    );
    assert.equal(expr.status, 200);
    const sel3 = {
      matchExpressions: [
        { key: "method", operator: "NotIn", values: ["GET"] },
        { key: "nolabel", operator: "DoesNotExist" },
      ],
    };
    assertJson(expr.body, list("v1beta1", [v1beta1Item(podRef("web-1"), "requests", "5", sel3)]));
    assert.deepEqual(expr.queries, [
      `sum(kcm_requests{method!="GET",nolabel="",namespace="${ns}",pod="web-1"}) by (pod)`,
    ]);
  });

  test("bad labelSelector: 400 BadRequest with the parser's message", T, async () => {
    const r = await get(`${CM}/v1beta1/namespaces/${ns}/pods/*/cpu_load?labelSelector=a%20b`);
    assert.equal(r.status, 400);
    assertJson(
      r.body,
      status(
        400,
        "BadRequest",
        "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
      ),
    );
    assert.deepEqual(r.queries, []);
  });

  test(
    "bad metricLabelSelector: 500 as a raw error (no reason), as the generic apiserver",
    T,
    async () => {
      const r = await get(
        `${CM}/v1beta1/namespaces/${ns}/pods/web-1/cpu_load?metricLabelSelector=${encodeURIComponent("x in (a")}`,
      );
      assert.equal(r.status, 500);
      assertJson(r.body, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "unable to parse requirement: found '', expected: ',' or ')'",
        code: 500,
      });
    },
  );

  test(
    "unknown metric, unknown resource, scope mismatch: 404 with upstream's message",
    T,
    async () => {
      const r = await get(`${CM}/v1beta1/namespaces/${ns}/pods/web-1/no_such_metric`);
      assert.equal(r.status, 404);
      assertJson(
        r.body,
        status(404, "NotFound", "the server could not find the metric no_such_metric for pods"),
      );
      assert.deepEqual(r.queries, []);
      const res = await get(`${CM}/v1beta1/namespaces/${ns}/gizmos.example.com/g/cpu_load`);
      assertJson(
        res.body,
        status(
          404,
          "NotFound",
          "the server could not find the metric cpu_load for gizmos.example.com",
        ),
      );
      // pods/cpu_load is namespaced: the root-scoped path does not find it.
      const root = await get(`${CM}/v1beta1/pods/web-1/cpu_load`);
      assertJson(
        root.body,
        status(404, "NotFound", "the server could not find the metric cpu_load for pods"),
      );
      // A named object without a sample.
      const named = await get(`${CM}/v1beta1/namespaces/${ns}/pods/nobody/cpu_load`);
      assertJson(
        named.body,
        status(404, "NotFound", "the server could not find the metric cpu_load for pods nobody"),
      );
    },
  );

  test("unknown routes: 404 with details {}", T, async () => {
    const expected = status(
      404,
      "NotFound",
      "the server could not find the requested resource",
      {},
    );
    for (const path of [
      `${CM}/v1beta1/namespaces/${ns}/pods/web-1`,
      `${CM}/v1beta1/pods/web-1`,
      `${CM}/v1beta1/namespaces`,
      `${CM}/v1beta1/namespaces/${ns}/pods/web-1/cpu_load/extra`,
      `${CM}/v1/namespaces/${ns}/pods/web-1/cpu_load`,
    ]) {
      const r = await get(path);
      assert.equal(r.status, 404, path);
      assertJson(r.body, expected);
    }
  });

  test("`*` matching zero objects: 404, and Prometheus is not asked", T, async () => {
    const r = await get(
      `${CM}/v1beta1/namespaces/${ns}/pods/*/cpu_load?labelSelector=app%3Dnobody`,
    );
    assert.equal(r.status, 404);
    assertJson(
      r.body,
      status(404, "NotFound", "the server could not find the metric cpu_load for pods"),
    );
    assert.deepEqual(r.queries, []);
  });

  test("a CRD created after start is served without a restart", T, async () => {
    const path = `${CM}/v1beta1/namespaces/${ns}/widgets.${CRD_GROUP}/w1/obj_widget_depth`;
    const before = await get(path);
    assertJson(
      before.body,
      status(
        404,
        "NotFound",
        `the server could not find the metric obj_widget_depth for widgets.${CRD_GROUP}`,
      ),
    );
    await apply([crd]);
    await waitForCrdEstablished(info, `widgets.${CRD_GROUP}`);
    await kubectl(
      info,
      ["-n", ns, "apply", "-f", "-"],
      JSON.stringify({ apiVersion: `${CRD_GROUP}/v1`, kind: "Widget", metadata: { name: "w1" } }),
    );
    const r = await waitFor(
      "the adapter to serve the CRD's metric",
      async () => {
        const x = await get(path);
        return x.status === 200 ? x : undefined;
      },
      60_000,
      1_000,
    );
    assertJson(
      r.body,
      list("v1beta1", [
        v1beta1Item(
          { kind: "Widget", namespace: ns, name: "w1", apiVersion: `${CRD_GROUP}/v1` },
          "obj_widget_depth",
          "12",
        ),
      ]),
    );
    assert.deepEqual(r.queries, [
      `max(obj_widget_depth{namespace="${ns}",widget="w1"}) by (widget)`,
    ]);
    const all = await get(`${CM}/v1beta2/namespaces/${ns}/widgets.${CRD_GROUP}/*/obj_widget_depth`);
    assertJson(
      all.body,
      list("v1beta2", [
        v1beta2Item(
          { kind: "Widget", namespace: ns, name: "w1", apiVersion: `${CRD_GROUP}/v1` },
          "obj_widget_depth",
          "12",
        ),
      ]),
    );
    const disc = await get(`${CM}/v1beta1`);
    assert.ok(resourceNames(disc.body).includes(`widgets.${CRD_GROUP}/obj_widget_depth`));
  });
});

describe("custom metrics with the default rules", () => {
  test("discovery: gauges keep their name, counters lose _total", T, async () => {
    const r = await get(`${CM}/v1beta1`, defaults, defaultsProxy);
    assert.equal(r.status, 200);
    assert.deepEqual(resourceNames(r.body), [
      "deployments.apps/obj_replicas_ready",
      "namespaces/kcm_cpu_load",
      "namespaces/kcm_requests",
      "namespaces/kcm_restarts",
      "namespaces/obj_connections",
      "namespaces/obj_namespace_load",
      "namespaces/obj_replicas_ready",
      "namespaces/obj_widget_depth",
      "pods/kcm_cpu_load",
      "pods/kcm_requests",
      "pods/kcm_restarts",
      "services/obj_connections",
    ]);
  });

  test("a gauge and a counter, with the exact PromQL", T, async () => {
    const g = await get(
      `${CM}/v1beta1/namespaces/${ns}/pods/*/kcm_cpu_load?labelSelector=app%3Dworker`,
      defaults,
      defaultsProxy,
    );
    assertJson(g.body, list("v1beta1", [v1beta1Item(podRef("worker-1"), "kcm_cpu_load", "2k")]));
    assert.deepEqual(g.queries, [`sum(kcm_cpu_load{namespace="${ns}",pod="worker-1"}) by (pod)`]);
    const c = await get(
      `${CM}/v1beta2/namespaces/${ns}/pods/web-1/kcm_restarts`,
      defaults,
      defaultsProxy,
    );
    assertJson(c.body, list("v1beta2", [v1beta2Item(podRef("web-1"), "kcm_restarts", "0")]));
    assert.deepEqual(c.queries, [
      `sum(rate(kcm_restarts_total{namespace="${ns}",pod="web-1"}[5m])) by (pod)`,
    ]);
  });
});

describe("relist failure", () => {
  test("a relist that fails keeps serving the last good list", T, async () => {
    const p = await startRecordingProxy(prom.url);
    const a = await startAdapter({
      prometheusUrl: p.url,
      kubeconfig: info.kubeconfig,
      config: CONFIG,
      relistInterval: "1s",
      maxAge: "1h",
    });
    try {
      const good = await get(`${CM}/v1beta1`, a, p);
      const names = resourceNames(good.body);
      assert.ok(names.includes("pods/cpu_load"));
      // Prometheus goes away: the port is closed.
      await p.stop();
      await waitFor(
        "a failed relist in the logs",
        () => Promise.resolve(a.logs().includes("keeping the last good list") ? true : undefined),
        20_000,
        200,
      );
      const after = await getJson(a, `${CM}/v1beta1`);
      assert.equal(after.status, 200);
      assert.deepEqual(resourceNames(after.body), names);
      const ready = await fetch(`${a.url}/readyz`);
      assert.equal(ready.status, 200);
      await ready.arrayBuffer();
      // Queries fail as upstream's do when Prometheus is unreachable.
      const q = await getJson(a, `${CM}/v1beta1/namespaces/${ns}/pods/web-1/cpu_load`);
      assert.equal(q.status, 500);
      assertJson(
        q.body,
        status(500, "InternalError", "Internal error occurred: unable to fetch metrics", {
          causes: [{ message: "unable to fetch metrics" }],
        }),
      );
    } finally {
      await a.stop();
      await p.stop().catch(() => undefined);
    }
  });
});
