/**
 * @module test/differential
 * Differential test against the original: prometheus-adapter v0.12.0 (built from the Go module
 * proxy, test/support/upstream-adapter.ts) and our adapter run side by side with the same config
 * (test/fixtures/differential/config.yaml plus resourceRules, so metrics.k8s.io is served too),
 * the same real Prometheus backfilled with known series, and the same real objects (nginx pods of
 * a Deployment, standalone pods, a Pending pod, services, a Node without a kubelet) in fresh
 * namespaces of the shared local cluster: the world and the requests of
 * test/support/differential-corpus.ts, which the backend tests share. Upstream is reached over
 * HTTPS as the aggregator reaches it (front-proxy client certificate, X-Remote-User /
 * X-Remote-Group); ours in insecure mode.
 *
 * Every request of the corpus must give the same HTTP status and the same JSON text (key order
 * included) after normalizing timestamps and, for discovery documents only, the order of
 * `resources` (upstream's is random). Differences we make on purpose are listed in
 * docs/compatibility.md; each has its own test below that asserts the difference explicitly.
 * A recording proxy in front of Prometheus for each adapter shows the requests they send.
 * Loopback only.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { getJson, startAdapter, type RunningAdapter } from "../support/adapter.ts";
import { kubectl, testCluster, waitFor } from "../support/cluster.ts";
import {
  answer,
  CM,
  CONFIG,
  corpusOpenMetrics,
  createCorpusWorld,
  differentialCorpus,
  EM,
  enc,
  fixture,
  MK,
  writeCorpusConfig,
  type Answer,
  type CorpusWorld,
} from "../support/differential-corpus.ts";
import { applyObjects, waitForCrdEstablished, widgetCrd } from "../support/objects.ts";
import {
  startPrometheus,
  startRecordingProxy,
  type RecordedRequest,
  type RecordingProxy,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { startUpstreamAdapter, type RunningUpstream } from "../support/upstream-adapter.ts";

const T = { timeout: 300_000 };
// Unique per run: CRDs are cluster-wide.
const CRD_GROUP = `kcmdiff${Date.now().toString(36)}.example.com`;

let info: ClusterInfo;
/** CONFIG plus RESOURCE_RULES, in a temporary file: the config both main adapters load. */
let config: string;
/** The objects the corpus is about (test/support/differential-corpus.ts). */
let world: CorpusWorld;
let ns: string;
/** A second namespace, for external metrics of another namespace. */
let otherNs: string;
/** A Node object without a kubelet and without samples. */
let bareNode: string;
let prom: RunningPrometheus;
let oursProxy: RecordingProxy;
let theirsProxy: RecordingProxy;
let ours: RunningAdapter;
let theirs: RunningUpstream;

const crd = widgetCrd(CRD_GROUP);

const apply = (objects: unknown[], namespace?: string) => applyObjects(info, objects, namespace);

// ---------------------------------------------------------------------------------------------
// Requests to both adapters

interface Pair {
  readonly ours: Answer;
  readonly theirs: Answer;
}

async function askOurs(path: string): Promise<Answer> {
  const from = oursProxy.requests.length;
  const res = await fetch(`${ours.url}${path}`, { signal: AbortSignal.timeout(20_000) });
  const raw = await res.text();
  return answer(res.status, raw, oursProxy.requests.slice(from));
}

async function askTheirs(path: string): Promise<Answer> {
  const from = theirsProxy.requests.length;
  const res = await theirs.get(path);
  return answer(res.status, res.text, theirsProxy.requests.slice(from));
}

/** One request to each adapter, one after the other (so each proxy sees only its own calls). */
async function both(path: string): Promise<Pair> {
  const o = await askOurs(path);
  const t = await askTheirs(path);
  return { ours: o, theirs: t };
}

/** The PromQL of every instant query among `requests` (GET query string or POST form). */
function promql(requests: RecordedRequest[]): string[] {
  return requests
    .filter((r) => r.url.startsWith("/api/v1/query"))
    .map((r) => queryParams(r).get("query") ?? "");
}

function queryParams(r: RecordedRequest): URLSearchParams {
  const u = new URL(r.url, "http://x");
  return r.method === "POST" ? new URLSearchParams(r.body) : u.searchParams;
}

/** Same status and same normalized JSON text; on failure, both answers in full. */
function assertSame(p: Pair, path: string): void {
  const o = `${String(p.ours.status)} ${p.ours.text}`;
  const t = `${String(p.theirs.status)} ${p.theirs.text}`;
  if (o === t) return;
  assert.fail(
    [
      `GET ${path}`,
      `ours: ${o}`,
      `prometheus-adapter v0.12.0: ${t}`,
      `PromQL ours: ${JSON.stringify(promql(p.ours.prom))}`,
      `PromQL theirs: ${JSON.stringify(promql(p.theirs.prom))}`,
    ].join("\n"),
  );
}

function status(code: number, reason: string | undefined, message: string, details?: unknown) {
  return JSON.stringify(
    {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message,
      ...(reason === undefined ? {} : { reason }),
      ...(details === undefined ? {} : { details }),
      code,
    },
    null,
    1,
  );
}

// ---------------------------------------------------------------------------------------------
// Setup

before(async () => {
  info = await testCluster();
  world = await createCorpusWorld(info);
  ({ ns, otherNs, bareNode } = world);
  config = writeCorpusConfig();
  prom = await startPrometheus({ openMetrics: corpusOpenMetrics(world) });
  oursProxy = await startRecordingProxy(prom.url);
  theirsProxy = await startRecordingProxy(prom.url);
  // A short relist so the CRD test sees rediscovery quickly; backfilled series are old, so the
  // max age is wide.
  [ours, theirs] = await Promise.all([
    startAdapter({
      prometheusUrl: oursProxy.url,
      kubeconfig: info.kubeconfig,
      config,
      relistInterval: "2s",
      maxAge: "1h",
    }),
    startUpstreamAdapter({
      info,
      prometheusUrl: theirsProxy.url,
      config,
      relistInterval: "2s",
      maxAge: "1h",
    }),
  ]);
  // Both have finished a first discovery pass.
  await waitFor(
    "both adapters to list their metrics",
    async () => {
      const [o, t] = await Promise.all([askOurs(`${CM}/v1beta1`), askTheirs(`${CM}/v1beta1`)]);
      const [oe, te] = await Promise.all([askOurs(EM), askTheirs(EM)]);
      const has = (a: Answer, name: string) => a.text.includes(`"name": "${name}"`);
      return has(o, "pods/cpu_load") &&
        has(t, "pods/cpu_load") &&
        has(oe, "global_backlog") &&
        has(te, "global_backlog")
        ? true
        : undefined;
    },
    60_000,
    500,
  );
  // Upstream lists pods from an informer: wait until it has seen the Running ones.
  await waitFor(
    "both adapters to serve the Running pods' metrics",
    async () => {
      const p = await both(`${MK}/namespaces/${ns}/pods`);
      const count = (a: Answer) => (a.body as { items?: unknown[] }).items?.length;
      return count(p.ours) === 3 && count(p.theirs) === 3 ? true : undefined;
    },
    60_000,
    500,
  );
});

after(async () => {
  await Promise.allSettled([ours.stop(), theirs.stop()]);
  await Promise.allSettled([oursProxy.stop(), theirsProxy.stop()]);
  await prom.stop();
  for (const n of [ns, otherNs]) {
    await kubectl(info, ["delete", "namespace", n, "--wait=false"]).catch(() => "");
  }
  await kubectl(info, ["delete", "crd", `widgets.${CRD_GROUP}`, "--ignore-not-found"]).catch(
    () => "",
  );
  if (bareNode) {
    await kubectl(info, ["delete", "node", bareNode, "--ignore-not-found"]).catch(() => "");
  }
});

const corpus = differentialCorpus;

describe("same status and JSON as prometheus-adapter v0.12.0", () => {
  test("the corpus holds at least 50 requests", () => {
    assert.ok(corpus.length >= 50, String(corpus.length));
  });
  for (const [name, path, bug] of corpus) {
    test(name, bug === undefined ? T : { ...T, todo: bug }, async () => {
      const p = path(world);
      assertSame(await both(p), p);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Deliberate differences (docs/compatibility.md): each asserted explicitly

describe("deliberate differences from prometheus-adapter v0.12.0", () => {
  test("discovery asks for label names instead of /api/v1/series; same resources", T, async () => {
    const paths = (p: RecordingProxy) =>
      new Set(p.requests.map((r) => new URL(r.url, "http://x").pathname));
    const o = paths(oursProxy);
    const t = paths(theirsProxy);
    assert.ok(t.has("/api/v1/series"), [...t].join(" "));
    assert.ok(
      !t.has("/api/v1/labels") && !t.has("/api/v1/label/__name__/values"),
      [...t].join(" "),
    );
    assert.ok(o.has("/api/v1/labels") && o.has("/api/v1/label/__name__/values"), [...o].join(" "));
    assert.ok(!o.has("/api/v1/series"), [...o].join(" "));
    for (const path of [`${CM}/v1beta1`, `${CM}/v1beta2`, EM]) assertSame(await both(path), path);
  });

  test("resource names are regex-escaped in =~ matchers; same answer", T, async () => {
    const path = `${CM}/v1beta1/namespaces/${ns}/pods/*/cpu_load?labelSelector=${enc("app in (db,worker)")}`;
    const p = await both(path);
    assertSame(p, path);
    assert.deepEqual(promql(p.theirs.prom), [
      `sum(diff_cpu_load{namespace="${ns}",pod=~"db.0|worker-1"}) by (pod)`,
    ]);
    assert.deepEqual(promql(p.ours.prom), [
      `sum(diff_cpu_load{namespace="${ns}",pod=~"db\\\\.0|worker-1"}) by (pod)`,
    ]);
  });

  test("queries carry a working timeout parameter (upstream's is empty, PR #710)", T, async () => {
    const path = `${CM}/v1beta1/namespaces/${ns}/pods/db.0/cpu_load`;
    const p = await both(path);
    assertSame(p, path);
    // Instant queries only: a relist (every 2 s) may fall into the same moment.
    const timeout = (a: Answer) =>
      a.prom
        .filter((r) => new URL(r.url, "http://x").pathname === "/api/v1/query")
        .map((r) => queryParams(r).get("timeout"));
    assert.deepEqual(timeout(p.theirs), [""]);
    assert.deepEqual(timeout(p.ours), ["10"]);
    // Otherwise the same PromQL.
    assert.deepEqual(promql(p.ours.prom), promql(p.theirs.prom));
  });

  test("a GET URL over 8 KiB is sent as a POST form; same answer", T, async () => {
    const values = [
      "GET",
      ...Array.from({ length: 1500 }, (_, i) => `v${String(i).padStart(4, "0")}`),
    ];
    const path = `${CM}/v1beta1/namespaces/${ns}/pods/*/requests?metricLabelSelector=${enc(`method in (${values.join(",")})`)}`;
    const p = await both(path);
    assert.equal(p.ours.status, 200);
    assertSame(p, path);
    const queries = (a: Answer) => a.prom.filter((r) => r.url.startsWith("/api/v1/query"));
    const [o] = queries(p.ours);
    const [t] = queries(p.theirs);
    assert.ok(o !== undefined && t !== undefined);
    assert.equal(t.method, "GET");
    assert.ok(t.url.length > 8192, String(t.url.length));
    assert.equal(o.method, "POST");
    assert.equal(o.url, "/api/v1/query");
  });

  test("unknown group or path: Status 404 instead of upstream's {paths} index", T, async () => {
    for (const path of [
      "/apis/nonexistent.example.com",
      "/apis/nonexistent.example.com/v1/things",
      "/nonexistent",
    ]) {
      const p = await both(path);
      assert.equal(p.theirs.status, 404, path);
      const paths = (p.theirs.body as { paths?: unknown }).paths;
      assert.ok(
        Array.isArray(paths) && paths.includes("/apis/custom.metrics.k8s.io/v1beta2"),
        p.theirs.text,
      );
      assert.equal(Object.keys(p.theirs.body as object).join(), "paths");
      assert.equal(p.ours.status, 404, path);
      assert.equal(
        p.ours.text,
        status(404, "NotFound", "the server could not find the requested resource", {}),
        path,
      );
    }
  });

  test(
    "resource queries: object names regex-escaped, as in custom ones; same answer",
    T,
    async () => {
      const path = `${MK}/namespaces/${ns}/pods?labelSelector=${enc("app in (db,worker)")}`;
      const p = await both(path);
      assertSame(p, path);
      const query = (metric: string, pods: string) =>
        `sum(${metric}{namespace="${ns}",pod=~"${pods}"}) by (pod,container)`;
      assert.deepEqual(promql(p.ours.prom).sort(), [
        query("dres_cpu_cores", "db\\\\.0|worker-1"),
        query("dres_memory_bytes", "db\\\\.0|worker-1"),
      ]);
      // Upstream names the pods in its informer's order, which varies.
      assert.deepEqual(
        promql(p.theirs.prom)
          .map((q) => q.replace("worker-1|db.0", "db.0|worker-1"))
          .sort(),
        [query("dres_cpu_cores", "db.0|worker-1"), query("dres_memory_bytes", "db.0|worker-1")],
      );
    },
  );

  test(
    "a PodMetrics' containers are sorted by name (upstream: Go map order, random)",
    T,
    async () => {
      const path = `${MK}/namespaces/${ns}/pods/db.0`;
      const names = (text: string) =>
        (JSON.parse(text) as { containers: { name: string }[] }).containers.map((c) => c.name);
      const orders = new Set<string>();
      for (let i = 0; i < 30; i++) {
        const res = await fetch(`${ours.url}${path}`);
        assert.deepEqual(names(await res.text()), ["db", "metrics", "sidecar"]);
        const t = await theirs.get(path);
        assert.equal(t.status, 200, t.text);
        const order = names(t.text);
        assert.deepEqual([...order].sort(), ["db", "metrics", "sidecar"]);
        orders.add(order.join());
      }
      // Three containers come in one of their rotations each time: 30 equal ones are all but
      // impossible (3^-29).
      assert.ok(orders.size > 1, [...orders].join(" | "));
      // Otherwise the same answer (the corpus compares them with containers sorted).
      assertSame(await both(path), path);
    },
  );

  test(
    "metrics.k8s.io without resourceRules: uninstalled in both (404; upstream's body is a path list)",
    T,
    async () => {
      const [o, t] = await Promise.all([
        startAdapter({ prometheusUrl: prom.url, kubeconfig: info.kubeconfig, config: CONFIG }),
        startUpstreamAdapter({
          info,
          prometheusUrl: prom.url,
          config: CONFIG,
          relistInterval: "2s",
          maxAge: "1h",
        }),
      ]);
      try {
        const theirs = await t.get(MK);
        assert.equal(theirs.status, 404);
        assert.equal(Object.keys(JSON.parse(theirs.text) as object).join(), "paths");
        const res = await fetch(`${o.url}${MK}`);
        const text = JSON.stringify(await res.json(), null, 1);
        assert.equal(res.status, 404, text);
        assert.equal(
          text,
          status(404, "NotFound", "the server could not find the requested resource", {}),
        );
      } finally {
        await Promise.allSettled([o.stop(), t.stop()]);
      }
    },
  );

  test(
    "metricLabelSelector with != is served (upstream queries, then fails with 500)",
    T,
    async () => {
      for (const [sel, matchers] of [
        ["method!=GET", 'method!="GET"'],
        ["!nolabel,method!=GET", 'method!="GET",nolabel=""'],
      ] as const) {
        const path = `${CM}/v1beta1/namespaces/${ns}/pods/db.0/requests?metricLabelSelector=${enc(sel)}`;
        const p = await both(path);
        assert.equal(p.theirs.status, 500);
        assert.equal(
          p.theirs.text,
          status(500, undefined, '"!=" is not a valid label selector operator'),
        );
        const query = `sum(diff_requests{${matchers},namespace="${ns}",pod="db.0"}) by (pod)`;
        assert.deepEqual(promql(p.theirs.prom), [query]);
        assert.deepEqual(promql(p.ours.prom), [query]);
        assert.equal(p.ours.status, 200);
        const body = p.ours.body as { items: { value: string; selector: unknown }[] };
        assert.equal(body.items.length, 1);
        const [item] = body.items as [{ value: string; selector: unknown }];
        assert.equal(item.value, "16m");
        assert.deepEqual(item.selector, {
          matchExpressions: [
            { key: "method", operator: "NotIn", values: ["GET"] },
            ...(sel.startsWith("!") ? [{ key: "nolabel", operator: "DoesNotExist" }] : []),
          ],
        });
      }
    },
  );

  for (const [file, field] of [
    ["config-empty-metrics-query.yaml", "metricsQuery"],
    ["config-empty-series-query.yaml", "seriesQuery"],
  ] as const) {
    test(`a rule without ${field}: both start, ours warns with file:line:col`, T, async () => {
      const config = fixture(file);
      const t = await startUpstreamAdapter({
        info,
        prometheusUrl: prom.url,
        config,
        relistInterval: "2s",
        maxAge: "1h",
      });
      try {
        if (field === "metricsQuery") {
          // Discovered, but every query of the metric fails as if it were unknown.
          await waitFor("upstream to list pods/cpu_load", async () =>
            (await t.get(`${CM}/v1beta1`)).text.includes('"pods/cpu_load"') ? true : undefined,
          );
          const r = await t.get(`${CM}/v1beta1/namespaces/${ns}/pods/db.0/cpu_load`);
          assert.equal(r.status, 404);
          assert.equal(
            JSON.stringify(JSON.parse(r.text), null, 1),
            status(404, "NotFound", "the server could not find the metric cpu_load for pods"),
          );
        } else {
          // Serves, but discovers nothing, ever.
          await sleep(3_000);
          const r = await t.get(`${CM}/v1beta1`);
          assert.equal(r.status, 200);
          assert.deepEqual((JSON.parse(r.text) as { resources: unknown }).resources, []);
        }
      } finally {
        await t.stop();
      }
      const o = await startAdapter({
        prometheusUrl: prom.url,
        kubeconfig: info.kubeconfig,
        config,
        relistInterval: "2s",
        maxAge: "1h",
      });
      try {
        assert.match(
          o.logs(),
          new RegExp(`${file}:\\d+:\\d+: warning: rules\\[0\\]\\.${field} is empty`),
        );
        if (field === "metricsQuery") {
          // The same 404 as upstream; the message goes on to name the rule and why.
          await waitFor("ours to list pods/cpu_load", async () =>
            JSON.stringify((await getJson(o, `${CM}/v1beta1`)).body).includes('"pods/cpu_load"')
              ? true
              : undefined,
          );
          const r = await getJson(o, `${CM}/v1beta1/namespaces/${ns}/pods/db.0/cpu_load`);
          assert.equal(r.status, 404);
          assert.equal(
            (r.body as { message: string }).message,
            "the server could not find the metric cpu_load for pods: rules[0] cannot build its query: empty query produced by metrics query template",
          );
        } else {
          const r = await getJson(o, `${CM}/v1beta1`);
          assert.equal(r.status, 200);
          assert.deepEqual((r.body as { resources: unknown }).resources, []);
        }
      } finally {
        await o.stop();
      }
    });
  }

  // Last: it changes discovery (ours gains the widget metric).
  test(
    "a CRD created after start is served without a restart (upstream: 404 until restarted)",
    T,
    async () => {
      const path = `${CM}/v1beta1/namespaces/${ns}/widgets.${CRD_GROUP}/w1/dobj_widget_depth`;
      const notFound = status(
        404,
        "NotFound",
        `the server could not find the metric dobj_widget_depth for widgets.${CRD_GROUP}`,
      );
      const before = await both(path);
      assertSame(before, path);
      assert.equal(before.theirs.text, notFound);
      await apply([crd]);
      await waitForCrdEstablished(info, `widgets.${CRD_GROUP}`);
      await kubectl(
        info,
        ["-n", ns, "apply", "-f", "-"],
        JSON.stringify({ apiVersion: `${CRD_GROUP}/v1`, kind: "Widget", metadata: { name: "w1" } }),
      );
      const served = await waitFor(
        "our adapter to serve the CRD's metric",
        async () => {
          const a = await askOurs(path);
          return a.status === 200 ? a : undefined;
        },
        60_000,
        1_000,
      );
      assert.equal(
        served.text,
        JSON.stringify(
          {
            kind: "MetricValueList",
            apiVersion: "custom.metrics.k8s.io/v1beta1",
            metadata: {},
            items: [
              {
                describedObject: {
                  kind: "Widget",
                  namespace: ns,
                  name: "w1",
                  apiVersion: `${CRD_GROUP}/v1`,
                },
                metricName: "dobj_widget_depth",
                timestamp: "<ts>",
                value: "12",
                selector: null,
              },
            ],
          },
          null,
          1,
        ),
      );
      // Several relists later, upstream (REST mapper built once at startup) still does not know it.
      await sleep(5_000);
      const t = await askTheirs(path);
      assert.equal(`${String(t.status)} ${t.text}`, `404 ${notFound}`);
      const disc = await both(`${CM}/v1beta1`);
      const names = (a: Answer) =>
        (a.body as { resources: { name: string }[] }).resources.map((r) => r.name);
      assert.ok(names(disc.ours).includes(`widgets.${CRD_GROUP}/dobj_widget_depth`));
      assert.ok(!names(disc.theirs).includes(`widgets.${CRD_GROUP}/dobj_widget_depth`));
    },
  );
});
