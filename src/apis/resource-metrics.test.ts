import assert from "node:assert/strict";
import { StatusError } from "../apimachinery/status.ts";
import { describe, test } from "node:test";
import { Quantity } from "../apimachinery/quantity.ts";
import { fromNanocores } from "../apimachinery/quantity-conversions.ts";
import type {
  NodeRef,
  PodRef,
  ResourceMetricsSource,
  ResourceObjects,
} from "../providers/resource/types.ts";
import { parseResourceRoute, resourceMetricsApi } from "./resource-metrics.ts";
import { bodyValue, SerializedBody } from "./types.ts";

const NOW = new Date("2024-05-06T07:08:09.500Z");
const TS = new Date("2024-05-06T07:08:00Z");
const usage = (n: bigint, bytes: bigint) => ({
  cpu: fromNanocores(n),
  memory: Quantity.fromInt(bytes, "BinarySI"),
});

const pods: PodRef[] = [
  { namespace: "b", name: "web-1", labels: { app: "web" } },
  { namespace: "a", name: "web-2", labels: { app: "web" } },
  { namespace: "a", name: "db", labels: { app: "db" } },
  { namespace: "a", name: "no-samples", labels: { app: "web" } },
];
const nodes: NodeRef[] = [
  { name: "n2", labels: {} },
  { name: "n1", labels: { zone: "z1" } },
];

function api() {
  const calls: string[] = [];
  const objects: ResourceObjects = {
    listPods: (ns, sel) => {
      calls.push(`listPods ${ns} ${sel}`);
      const want = sel === "app=web" ? "web" : sel === "" ? undefined : "none";
      return Promise.resolve(
        pods.filter(
          (p) => (ns === "" || p.namespace === ns) && (!want || p.labels["app"] === want),
        ),
      );
    },
    getPod: (ns, name) => Promise.resolve(pods.find((p) => p.namespace === ns && p.name === name)),
    listNodes: (sel) => {
      calls.push(`listNodes ${sel}`);
      return Promise.resolve(nodes);
    },
    getNode: (name) => Promise.resolve(nodes.find((n) => n.name === name)),
  };
  const source: ResourceMetricsSource = {
    podMetrics: (ps) =>
      Promise.resolve(
        ps.map((p) =>
          p.name === "no-samples"
            ? undefined
            : {
                timestamp: TS,
                windowNs: 15_000_000_000n,
                containers: [
                  { name: "app", usage: usage(12_345n, 4096n * 1024n) },
                  { name: "side", usage: usage(1_000_000_000n, 0n) },
                ],
              },
        ),
      ),
    nodeMetrics: (ns) =>
      Promise.resolve(
        ns.map((n) =>
          n.name === "n1"
            ? {
                timestamp: TS,
                windowNs: 300_000_000_000n,
                usage: usage(250_000_000n, 1536n * 1024n * 1024n),
              }
            : undefined,
        ),
      ),
  };
  const g = resourceMetricsApi({ objects, source, now: () => NOW });
  const get = async (path: string, query = "") => {
    const r = await g.handle("v1beta1", {
      method: "GET",
      segments: path.split("/").map(decodeURIComponent),
      query: new URLSearchParams(query),
    });
    return { ...r, body: bodyValue(r.body) };
  };
  return { g, get, calls };
}

async function status(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StatusError);
    return e.status;
  }
  assert.fail("expected an error");
}

describe("metrics.k8s.io v1beta1", () => {
  test("discovery lists nodes and pods with get and list", () => {
    assert.deepEqual(api().g.resourceList("v1beta1"), {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: "metrics.k8s.io/v1beta1",
      resources: [
        {
          name: "nodes",
          singularName: "",
          namespaced: false,
          kind: "NodeMetrics",
          verbs: ["get", "list"],
        },
        {
          name: "pods",
          singularName: "",
          namespaced: true,
          kind: "PodMetrics",
          verbs: ["get", "list"],
        },
      ],
    });
  });

  test("routes", () => {
    assert.deepEqual(parseResourceRoute(["nodes"]), { kind: "nodes" });
    assert.deepEqual(parseResourceRoute(["nodes", "n"]), { kind: "nodes", name: "n" });
    assert.deepEqual(parseResourceRoute(["pods"]), { kind: "pods", namespace: "" });
    assert.deepEqual(parseResourceRoute(["namespaces", "a", "pods"]), {
      kind: "pods",
      namespace: "a",
    });
    assert.deepEqual(parseResourceRoute(["namespaces", "a", "pods", "p"]), {
      kind: "pods",
      namespace: "a",
      name: "p",
    });
    for (const bad of [
      ["pods", "p"],
      ["namespaces", "a"],
      ["nodes", "n", "x"],
      ["nodes", ""],
      ["x"],
    ]) {
      assert.equal(parseResourceRoute(bad), undefined, bad.join("/"));
    }
  });

  test("a PodMetricsList as metrics-server returns it: sorted, pods without samples left out", async () => {
    const { get } = api();
    const r = await get("pods");
    assert.equal(r.status, 200);
    const item = (ns: string, name: string) => ({
      metadata: {
        name,
        namespace: ns,
        creationTimestamp: "2024-05-06T07:08:09Z",
        labels: { app: name === "db" ? "db" : "web" },
      },
      timestamp: "2024-05-06T07:08:00Z",
      window: "15s",
      containers: [
        { name: "app", usage: { cpu: "12345n", memory: "4Mi" } },
        { name: "side", usage: { cpu: "1", memory: "0" } },
      ],
    });
    assert.deepEqual(r.body, {
      kind: "PodMetricsList",
      apiVersion: "metrics.k8s.io/v1beta1",
      metadata: {},
      items: [item("a", "db"), item("a", "web-2"), item("b", "web-1")],
    });
    assert.equal(
      JSON.stringify((r.body as { items: unknown[] }).items[0]).slice(0, 60),
      '{"metadata":{"name":"db","namespace":"a","creationTimestamp"',
    );
  });

  test("label and field selectors", async () => {
    const { get, calls } = api();
    const names = async (path: string, q: string) =>
      ((await get(path, q)).body as { items: { metadata: { name: string } }[] }).items.map(
        (i) => i.metadata.name,
      );
    assert.deepEqual(await names("namespaces/a/pods", "labelSelector=app%3Dweb"), ["web-2"]);
    assert.deepEqual(calls.at(-1), "listPods a app=web");
    assert.deepEqual(await names("pods", "fieldSelector=metadata.namespace%3Da"), ["db", "web-2"]);
    assert.deepEqual(await names("pods", "fieldSelector=metadata.name!%3Ddb"), ["web-2", "web-1"]);
    assert.deepEqual(await names("nodes", "fieldSelector=metadata.name%3Dn1"), ["n1"]);
    assert.deepEqual(await status(get("pods", "labelSelector=a%20b")), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: ((await status(get("pods", "labelSelector=a%20b"))) as { message: string }).message,
      reason: "BadRequest",
      code: 400,
    });
    assert.equal(((await status(get("nodes", "fieldSelector=x"))) as { code: number }).code, 400);
  });

  test("a field selector on anything but metadata.name or metadata.namespace is a 400", async () => {
    const { get, calls } = api();
    const badField = (field: string) => ({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`,
      reason: "BadRequest",
      code: 400,
    });
    assert.deepEqual(
      await status(get("pods", "fieldSelector=spec.nodeName%3Dn1")),
      badField("spec.nodeName"),
    );
    // Terms are checked in parse order, which sorts them: "a.b" before "metadata.name".
    assert.deepEqual(
      await status(
        get("nodes", `fieldSelector=${encodeURIComponent("metadata.name=n1,z=1,a.b!=2")}`),
      ),
      badField("a.b"),
    );
    assert.deepEqual(
      await status(get("namespaces/a/pods", "fieldSelector=status.phase%3DRunning")),
      badField("status.phase"),
    );
    // Nothing was listed for them.
    assert.deepEqual(calls, []);
    // metadata.namespace is accepted for nodes too (cluster-scoped: it reads as "").
    assert.equal(
      ((await get("nodes", "fieldSelector=metadata.namespace%3D")).body as { items: unknown[] })
        .items.length,
      1,
    );
  });

  test("a single PodMetrics and NodeMetrics carry kind and apiVersion", async () => {
    const { get } = api();
    assert.deepEqual((await get("namespaces/b/pods/web-1")).body, {
      kind: "PodMetrics",
      apiVersion: "metrics.k8s.io/v1beta1",
      metadata: {
        name: "web-1",
        namespace: "b",
        creationTimestamp: "2024-05-06T07:08:09Z",
        labels: { app: "web" },
      },
      timestamp: "2024-05-06T07:08:00Z",
      window: "15s",
      containers: [
        { name: "app", usage: { cpu: "12345n", memory: "4Mi" } },
        { name: "side", usage: { cpu: "1", memory: "0" } },
      ],
    });
    assert.deepEqual((await get("nodes/n1")).body, {
      kind: "NodeMetrics",
      apiVersion: "metrics.k8s.io/v1beta1",
      metadata: { name: "n1", creationTimestamp: "2024-05-06T07:08:09Z", labels: { zone: "z1" } },
      timestamp: "2024-05-06T07:08:00Z",
      window: "5m0s",
      usage: { cpu: "250m", memory: "1536Mi" },
    });
    const list = (await get("nodes")).body as { kind: string; items: unknown[] };
    assert.equal(list.kind, "NodeMetricsList");
    assert.equal(list.items.length, 1);
  });

  test("missing objects are NotFound Statuses as metrics-server words them", async () => {
    const { get } = api();
    // An object that does not exist: the lister's NotFound (pods: the metadata lister's "pods";
    // nodes: the typed lister's "node"), with the bare name.
    assert.deepEqual(await status(get("namespaces/a/pods/nope")), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods "nope" not found',
      reason: "NotFound",
      details: { name: "nope", kind: "pods" },
      code: 404,
    });
    assert.equal(
      ((await status(get("namespaces/b/pods/db"))) as { message: string }).message,
      'pods "db" not found',
    );
    assert.deepEqual(await status(get("nodes/n9")), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'node "n9" not found',
      reason: "NotFound",
      details: { name: "n9", kind: "node" },
      code: 404,
    });
    // An object without metrics: the metrics resource, the pod as namespace/name.
    assert.deepEqual(await status(get("namespaces/a/pods/no-samples")), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'podmetrics.metrics.k8s.io "a/no-samples" not found',
      reason: "NotFound",
      details: { name: "a/no-samples", group: "metrics.k8s.io", kind: "podmetrics" },
      code: 404,
    });
    assert.deepEqual(await status(get("nodes/n2")), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'nodemetrics.metrics.k8s.io "n2" not found',
      reason: "NotFound",
      details: { name: "n2", group: "metrics.k8s.io", kind: "nodemetrics" },
      code: 404,
    });
    assert.equal(((await status(get("pods/x"))) as { code: number }).code, 404);
  });

  test("an identical pod list is served again from the same answer, a changed one afresh (a source that shares usage objects); never kept for one that does not", async () => {
    const listed = pods.slice(0, 3);
    let round = new Map(
      listed.map((p) => [
        p,
        {
          timestamp: TS,
          windowNs: 15_000_000_000n,
          containers: [{ name: "app", usage: usage(1n, 2n) }],
        },
      ]),
    );
    let clock = NOW;
    const api = (sharesUsage: boolean) =>
      resourceMetricsApi({
        objects: {
          listPods: () => Promise.resolve(listed.slice()),
          getPod: () => Promise.resolve(undefined),
          listNodes: () => Promise.resolve([]),
          getNode: () => Promise.resolve(undefined),
        },
        source: {
          sharesUsage,
          podMetrics: (ps) => Promise.resolve(ps.map((p) => round.get(p))),
          nodeMetrics: () => Promise.resolve([]),
        },
        now: () => clock,
      });
    const handle = async (g: ReturnType<typeof api>, query = "") =>
      (
        await g.handle("v1beta1", {
          method: "GET",
          segments: ["pods"],
          query: new URLSearchParams(query),
        })
      ).body;
    const fresh = api(false);
    const once = await handle(fresh);
    const again = await handle(fresh);
    assert.notEqual(again, once, "not kept: the source builds new usage objects every time");
    assert.deepEqual(bodyValue(again), bodyValue(once));
    const g = api(true);
    const list = (query = "") => handle(g, query);
    const first = await list();
    assert.ok(first instanceof SerializedBody);
    assert.equal(await list(), first, "same pods, same usage objects, same second");
    assert.notEqual(await list("labelSelector=app%3Dweb"), first, "another request");
    // A new scrape round: equal values, new objects; the answer is built again, and is equal.
    round = new Map([...round].map(([p, u]) => [p, { ...u }]));
    const next = await list();
    assert.notEqual(next, first);
    assert.deepEqual(bodyValue(next), bodyValue(first));
    clock = new Date(NOW.getTime() + 1000);
    const later = await list();
    assert.notEqual(later, next);
    assert.match((later as SerializedBody).text, /"creationTimestamp":"2024-05-06T07:08:10Z"/);
  });

  test("a failed object list answers what failed, never the socket error", async () => {
    const down = () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:26443"));
    const g = resourceMetricsApi({
      objects: { listPods: down, getPod: down, listNodes: down, getNode: down },
      source: { podMetrics: () => Promise.resolve([]), nodeMetrics: () => Promise.resolve([]) },
      now: () => NOW,
    });
    const get = (path: string) =>
      g.handle("v1beta1", {
        method: "GET",
        segments: path.split("/"),
        query: new URLSearchParams(),
      });
    for (const [path, what] of [
      ["pods", "pods"],
      ["namespaces/a/pods/p", "pods"],
      ["nodes", "nodes"],
      ["nodes/n1", "nodes"],
    ] as const) {
      const st = (await status(get(path))) as { code: number; message: string };
      assert.equal(st.code, 500, path);
      assert.equal(st.message, `Internal error occurred: failed listing ${what}`, path);
      assert.doesNotMatch(JSON.stringify(st), /ECONNREFUSED|127\.0\.0\.1/, path);
    }
  });
});
