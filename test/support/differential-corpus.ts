/**
 * @module test/support/differential-corpus
 * The differential test's world and requests, shared with the backend tests
 * (test/backend-*.test.ts): the objects (nginx pods of a Deployment, standalone pods, a Pending
 * pod, services, a Node without a kubelet) in fresh namespaces of the shared local cluster, the
 * series written about them as OpenMetrics (for promtool backfill or an import), the config
 * (test/fixtures/differential/config.yaml plus resourceRules over backfilled gauges), the
 * requests of the corpus, and how an answer is normalized before two are compared.
 */
import { constantSeries, type ConstantSeries } from "./series.ts";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { normalizeTimestamps } from "./adapter.ts";
import { freshNamespace, kubectl, waitFor } from "./cluster.ts";
import { applyObjects, runningPods } from "./objects.ts";
import type { RecordedRequest } from "./prometheus.ts";

export const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/differential/${name}`, import.meta.url));
/** Custom and external rules only: metrics.k8s.io is not served. */
export const CONFIG = fixture("config.yaml");
export const CM = "/apis/custom.metrics.k8s.io";
export const EM = "/apis/external.metrics.k8s.io/v1beta1";
export const MK = "/apis/metrics.k8s.io/v1beta1";
export const enc = encodeURIComponent;

/**
 * resourceRules over backfilled gauges (`dres_*`, which no other rule matches), so every value is
 * known exactly: a rate would differ between two queries a moment apart.
 */
export const RESOURCE_RULES = `
resourceRules:
  cpu:
    containerQuery: sum(dres_cpu_cores{<<.LabelMatchers>>}) by (<<.GroupBy>>)
    nodeQuery: sum(dres_cpu_cores{<<.LabelMatchers>>, id='/'}) by (<<.GroupBy>>)
    resources:
      overrides:
        namespace: { resource: namespace }
        pod: { resource: pod }
        instance: { resource: node }
    containerLabel: container
  memory:
    containerQuery: sum(dres_memory_bytes{<<.LabelMatchers>>}) by (<<.GroupBy>>)
    nodeQuery: sum(dres_memory_bytes{<<.LabelMatchers>>, id='/'}) by (<<.GroupBy>>)
    resources:
      overrides:
        namespace: { resource: namespaces }
        pod: { resource: pods }
        instance: { resource: nodes }
    containerLabel: container
  window: 2m
`;

/** What the corpus is about: names known once the objects exist. */
export interface CorpusWorld {
  readonly ns: string;
  /** A second namespace, for external metrics of another namespace. */
  readonly otherNs: string;
  /** The Deployment's two pods, in the API server's list order (by name). */
  readonly webPods: readonly string[];
  /** A Node object without a kubelet and without samples. */
  readonly bareNode: string;
  /** The local cluster's node (it has samples). */
  readonly nodeName: string;
}

/** A request of the corpus: its name, its path, and a known bug of ours if any (a `todo`). */
export type CorpusEntry = readonly [string, (w: CorpusWorld) => string, string?];

/** CONFIG plus RESOURCE_RULES, in a temporary file: the config the adapters load. */
export function writeCorpusConfig(): string {
  const config = join(mkdtempSync(join(tmpdir(), "kcm-diff-")), "config.yaml");
  writeFileSync(config, readFileSync(CONFIG, "utf8") + RESOURCE_RULES);
  return config;
}

// ---------------------------------------------------------------------------------------------
// Objects and series

function pod(name: string, labels: Record<string, string>) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels },
    spec: { containers: [{ name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] },
  };
}

function service(name: string, labels: Record<string, string>) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, labels },
    spec: { selector: { app: name }, ports: [{ port: 80 }] },
  };
}

const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web" },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web", tier: "frontend" } },
      spec: { containers: [{ name: "nginx", image: "nginx:1.27" }] },
    },
  },
};

/**
 * Creates the corpus' objects in two fresh namespaces (names prefixed `prefix`) and waits until
 * the Deployment's pods and the standalone ones run (metrics.k8s.io serves Running pods only).
 */
export async function createCorpusWorld(
  info: ClusterInfo,
  prefix = "kcm-diff",
): Promise<CorpusWorld> {
  const ns = await freshNamespace(info, prefix);
  const otherNs = await freshNamespace(info, `${prefix}-other`);
  await applyObjects(
    info,
    [
      deployment,
      pod("db.0", { app: "db", tier: "backend" }),
      pod("worker-1", { app: "worker" }),
      service("frontend", { tier: "frontend" }),
      service("backend", { tier: "backend" }),
      // The node cannot run this image: the pod stays Pending.
      {
        ...pod("pending-1", { app: "pending" }),
        spec: { containers: [{ name: "app", image: "example.com/not-runnable:1" }] },
      },
    ],
    ns,
  );
  await applyObjects(info, [pod("other-1", { app: "other" })], otherNs);
  const bareNode = `${ns}-bare`;
  await applyObjects(info, [
    {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: bareNode, labels: { "kcm-diff": "bare" } },
    },
  ]);
  const webPods = await waitFor("the deployment's two pods", async () => {
    const names = (
      await kubectl(info, [
        "-n",
        ns,
        "get",
        "pods",
        "-l",
        "app=web",
        "-o",
        "jsonpath={.items[*].metadata.name}",
      ])
    )
      .trim()
      .split(" ")
      .filter((n) => n !== "");
    return names.length === 2 ? names : undefined;
  });
  await waitFor(
    "the Running pods",
    async () => {
      const running = await runningPods(info);
      return [...webPods, "db.0", "worker-1"].every((p) => running.has(`${ns}/${p}`)) &&
        running.has(`${otherNs}/other-1`)
        ? true
        : undefined;
    },
    120_000,
  );
  return { ns, otherNs, webPods, bareNode, nodeName: info.nodeName };
}

/** Deletes what {@link createCorpusWorld} made (namespaces in the background). */
export async function deleteCorpusWorld(info: ClusterInfo, w: CorpusWorld): Promise<void> {
  for (const n of [w.ns, w.otherNs]) {
    await kubectl(info, ["delete", "namespace", n, "--wait=false"]).catch(() => "");
  }
  await kubectl(info, ["delete", "node", w.bareNode, "--ignore-not-found"]).catch(() => "");
}

/** A container's CPU (cores) and memory (bytes) gauges for the resourceRules. */
function resourceSeries(
  pod: string,
  container: string,
  cpu: string,
  memory: string,
  namespace: string,
): [string, Record<string, string>, string][] {
  const labels = { namespace, pod, container };
  return [
    ["dres_cpu_cores", labels, cpu],
    ["dres_memory_bytes", labels, memory],
  ];
}

/**
 * Constant series from 10 minutes ago to 20 minutes ahead every 30 s, so an instant query at any
 * "now" of the run finds the same value and discovery's `start` (now − max age) sees them all.
 */
export function corpusOpenMetrics(w: CorpusWorld): string {
  const { ns, otherNs } = w;
  const [webA, webB] = w.webPods as [string, string];
  const series: ConstantSeries[] = [
    ["diff_cpu_load", { namespace: ns, pod: webA }, "0.25"],
    ["diff_cpu_load", { namespace: ns, pod: webB }, "1.5"],
    ["diff_cpu_load", { namespace: ns, pod: "db.0" }, "2000"],
    ["diff_cpu_load", { namespace: ns, pod: "worker-1" }, "0.0004"],
    // No such pods: `*` must not report them (dbx0 also matches upstream's unescaped `db.0`).
    ["diff_cpu_load", { namespace: ns, pod: "ghost-1" }, "7"],
    ["diff_cpu_load", { namespace: ns, pod: "dbx0" }, "99"],
    ["diff_requests", { namespace: ns, pod: webA, method: "GET" }, "10"],
    ["diff_requests", { namespace: ns, pod: webA, method: "POST" }, "5"],
    ["diff_requests", { namespace: ns, pod: webB, method: "GET" }, "20.5"],
    ["diff_requests", { namespace: ns, pod: "db.0", method: "PUT" }, "0.016"],
    ["diff_nan_gauge", { namespace: ns, pod: "db.0" }, "NaN"],
    ["diff_restarts_total", { namespace: ns, pod: webA }, "3"],
    ["diff_skip_ignored", { namespace: ns, pod: webA }, "1"],
    ["dobj_connections", { namespace: ns, service: "frontend" }, "42"],
    ["dobj_connections", { namespace: ns, service: "backend" }, "0.016"],
    ["dobj_replicas", { namespace: ns, deployment: "web" }, "2000"],
    ["dobj_namespace_load", { namespace: ns }, "-1.5"],
    ["dobj_widget_depth", { namespace: ns, widget: "w1" }, "12"],
    ["dgroup_replicas", { namespace: ns, dk_apps_deployment: "web" }, "3"],
    ["dext_queue_depth", { namespace: ns, queue: "orders" }, "30"],
    ["dext_queue_depth", { namespace: ns, queue: "mail" }, "4"],
    ["dext_queue_depth", { namespace: otherNs, queue: "orders" }, "1000"],
    ["dext_global_backlog", { region: "eu" }, "5"],
    ["dext_global_backlog", { region: "us" }, "7.5"],
    // metrics.k8s.io: containers of pods (by pod and container) and nodes (id="/").
    ...resourceSeries(webA, "nginx", "0.25", "1048576", ns),
    ...resourceSeries(webB, "nginx", "1.5", "20971520.5", ns),
    // Three containers; NaN and negative values give 0; one without memory gets 0 memory.
    ...resourceSeries("db.0", "db", "2000", "123456789", ns),
    ...resourceSeries("db.0", "sidecar", "NaN", "-5", ns),
    ["dres_cpu_cores", { namespace: ns, pod: "db.0", container: "metrics" }, "0.0004"],
    // CPU without memory: the pod is left out.
    ["dres_cpu_cores", { namespace: ns, pod: "worker-1", container: "nginx" }, "0.1"],
    // A pod that is not Running, and no pod at all: left out.
    ...resourceSeries("pending-1", "app", "0.5", "4096", ns),
    ...resourceSeries("ghost-1", "nginx", "7", "7", ns),
    ...resourceSeries("other-1", "nginx", "0.016", "1073741824", otherNs),
    ["dres_cpu_cores", { instance: w.nodeName, id: "/" }, "0.75"],
    ["dres_memory_bytes", { instance: w.nodeName, id: "/" }, "2147483648"],
  ];
  return constantSeries(series);
}

// ---------------------------------------------------------------------------------------------
// Answers

export interface Answer {
  readonly status: number;
  /** Normalized JSON text, or the raw text when the body is not JSON. */
  readonly text: string;
  readonly body: unknown;
  /** The Prometheus requests the call caused. */
  readonly prom: RecordedRequest[];
}

/** Discovery documents: upstream's `resources` order is random, so both are sorted by name. */
function sortResources(body: unknown): unknown {
  if (body === null || typeof body !== "object") return body;
  const b = body as { kind?: unknown; resources?: { name: string }[] };
  if (b.kind !== "APIResourceList" || !Array.isArray(b.resources)) return body;
  return {
    ...b,
    resources: [...b.resources].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)),
  };
}

/** `/apis` from upstream names its own serving port (serverAddressByClientCIDRs). */
function normalizePorts(body: unknown): unknown {
  if (body === null || typeof body !== "object") return body;
  if ((body as { kind?: unknown }).kind !== "APIGroupList") return body;
  return JSON.parse(
    JSON.stringify(body).replace(/"serverAddress":":\d+"/g, '"serverAddress":":<port>"'),
  );
}

/**
 * Pod and node metrics: `metadata.creationTimestamp` is the adapter clock (like `timestamp`), and
 * a pod's `containers` come in Go map order from upstream (random), so they are sorted by name.
 * That ours are sorted is asserted on its own (deliberate differences).
 */
function normalizeResourceMetrics(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalizeResourceMetrics);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === "creationTimestamp" && typeof x === "string") {
      out[k] = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(x) ? "<ts>" : `<bad ts ${x}>`;
    } else if (k === "containers" && Array.isArray(x)) {
      out[k] = [...(x as { name: string }[])].sort((a, b) =>
        a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
      );
    } else {
      out[k] = normalizeResourceMetrics(x);
    }
  }
  return out;
}

export function answer(status: number, raw: string, promRequests: RecordedRequest[]): Answer {
  let body: unknown;
  try {
    body = normalizePorts(
      sortResources(normalizeResourceMetrics(normalizeTimestamps(JSON.parse(raw)))),
    );
  } catch {
    return { status, text: raw, body: raw, prom: promRequests };
  }
  return { status, text: JSON.stringify(body, null, 1), body, prom: promRequests };
}

// ---------------------------------------------------------------------------------------------
// The corpus: same status, same JSON

/**
 * Paths are functions of the world: the namespace and pod names are known only once it exists. A third
 * element marks a known bug of ours (reported, not yet fixed): the test still asserts equality,
 * as a `todo`, so it passes the day the bug is fixed and fails the run only once the mark is gone.
 */
export const differentialCorpus: readonly CorpusEntry[] = [
  // Discovery documents (resources compared as sets) and group documents.
  ["discovery custom v1beta1", () => `${CM}/v1beta1`],
  ["discovery custom v1beta2", () => `${CM}/v1beta2`],
  ["discovery external v1beta1", () => EM],
  ["group document custom", () => CM],
  ["group document external", () => "/apis/external.metrics.k8s.io"],
  ["group list /apis", () => "/apis"],
  // pods/* with labelSelector (equality and set-based).
  [
    "v1beta1 pods/* app=web",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/*/cpu_load?labelSelector=app%3Dweb`,
  ],
  [
    "v1beta2 pods/* app=web",
    (w) => `${CM}/v1beta2/namespaces/${w.ns}/pods/*/cpu_load?labelSelector=app%3Dweb`,
  ],
  ["v1beta1 pods/* without selector", (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/*/cpu_load`],
  [
    "v1beta2 pods/%2A without selector",
    (w) => `${CM}/v1beta2/namespaces/${w.ns}/pods/%2A/cpu_load`,
  ],
  [
    "pods/* app in (web,db)",
    (w) =>
      `${CM}/v1beta1/namespaces/${w.ns}/pods/*/cpu_load?labelSelector=${enc("app in (web,db)")}`,
  ],
  [
    "pods/* app notin (web)",
    (w) =>
      `${CM}/v1beta1/namespaces/${w.ns}/pods/*/cpu_load?labelSelector=${enc("app notin (web)")}`,
  ],
  [
    "pods/* app!=web",
    (w) => `${CM}/v1beta2/namespaces/${w.ns}/pods/*/cpu_load?labelSelector=${enc("app!=web")}`,
  ],
  [
    "pods/* tier (exists)",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/*/cpu_load?labelSelector=tier`,
  ],
  [
    "pods/* !tier",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/*/cpu_load?labelSelector=${enc("!tier")}`,
  ],
  [
    "pods/* app==db,tier=backend",
    (w) =>
      `${CM}/v1beta1/namespaces/${w.ns}/pods/*/cpu_load?labelSelector=${enc("app==db,tier=backend")}`,
  ],
  // Named pods, singular names, res.group forms.
  ["v1beta1 named pod with a dot", (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/db.0/cpu_load`],
  [
    "v1beta2 named pod, singular 'pod'",
    (w) => `${CM}/v1beta2/namespaces/${w.ns}/pod/worker-1/cpu_load`,
  ],
  [
    "named deployment pod",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/${w.webPods[1] ?? ""}/cpu_load`,
  ],
  ["NaN sample gives 0", (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/db.0/nan_gauge`],
  [
    "counter as rate, ${1}_per_second",
    (w) => `${CM}/v1beta2/namespaces/${w.ns}/pods/*/restarts_per_second`,
  ],
  [
    "counter also under rule 1's name",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/${w.webPods[0] ?? ""}/restarts_total`,
  ],
  [
    "series filter: filtered series is unknown",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/*/skip_ignored`,
  ],
  [
    "named pod without a value: 404",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/worker-1/requests`,
  ],
  // Services and deployments.apps.
  ["named service", (w) => `${CM}/v1beta1/namespaces/${w.ns}/services/frontend/dobj_connections`],
  ["services/*", (w) => `${CM}/v1beta1/namespaces/${w.ns}/services/*/dobj_connections`],
  [
    "singular 'service'",
    (w) => `${CM}/v1beta2/namespaces/${w.ns}/service/backend/dobj_connections`,
  ],
  [
    "services/* with labelSelector",
    (w) =>
      `${CM}/v1beta2/namespaces/${w.ns}/services/*/dobj_connections?labelSelector=tier%3Dbackend`,
  ],
  [
    "deployments.apps named",
    (w) => `${CM}/v1beta2/namespaces/${w.ns}/deployments.apps/web/dobj_replicas`,
  ],
  [
    "deployment.apps (singular) named",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/deployment.apps/web/dobj_replicas`,
  ],
  [
    "deployments without group",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/deployments/web/dobj_replicas`,
  ],
  [
    "deployments.apps/*",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/deployments.apps/*/dobj_replicas`,
  ],
  [
    "group template dk_<<.Group>>_<<.Resource>>",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/deployments.apps/web/grouped_replicas`,
  ],
  [
    "group template, v1beta2 *",
    (w) => `${CM}/v1beta2/namespaces/${w.ns}/deployments.apps/*/grouped_replicas`,
  ],
  // Namespace metrics.
  [
    "v1beta1 namespaces/{ns}/metrics/{m}",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/metrics/dobj_namespace_load`,
  ],
  [
    "v1beta2 namespaces/{ns}/metrics/{m}, pod rule",
    (w) => `${CM}/v1beta2/namespaces/${w.ns}/metrics/cpu_load`,
  ],
  [
    "namespaces/{ns}/{m} (root-scoped form)",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/dobj_namespace_load`,
  ],
  ["namespaces/*/metrics/{m}", () => `${CM}/v1beta1/namespaces/*/metrics/dobj_namespace_load`],
  // metricLabelSelector forms.
  [
    "metricLabelSelector =",
    (w) =>
      `${CM}/v1beta1/namespaces/${w.ns}/pods/*/requests?labelSelector=app%3Dweb&metricLabelSelector=method%3DGET`,
  ],
  [
    "metricLabelSelector ==",
    (w) =>
      `${CM}/v1beta1/namespaces/${w.ns}/pods/*/requests?metricLabelSelector=${enc("method==GET")}`,
  ],
  [
    "metricLabelSelector in",
    (w) =>
      `${CM}/v1beta2/namespaces/${w.ns}/pods/${w.webPods[0] ?? ""}/requests?metricLabelSelector=${enc("method in (PUT,POST)")}`,
  ],
  [
    "metricLabelSelector notin",
    (w) =>
      `${CM}/v1beta1/namespaces/${w.ns}/pods/*/requests?metricLabelSelector=${enc("method notin (GET)")}`,
  ],
  [
    "metricLabelSelector exists",
    (w) => `${CM}/v1beta2/namespaces/${w.ns}/pods/*/requests?metricLabelSelector=method`,
  ],
  [
    "metricLabelSelector !k",
    (w) =>
      `${CM}/v1beta1/namespaces/${w.ns}/pods/db.0/requests?metricLabelSelector=${enc("!nolabel")}`,
  ],
  [
    "metricLabelSelector !k, exists, in",
    (w) =>
      `${CM}/v1beta1/namespaces/${w.ns}/pods/*/requests?metricLabelSelector=${enc("!nolabel,method,method in (GET,PUT)")}`,
  ],
  [
    "bad metricLabelSelector: unclosed in",
    (w) =>
      `${CM}/v1beta1/namespaces/${w.ns}/pods/db.0/cpu_load?metricLabelSelector=${enc("x in (a")}`,
  ],
  [
    "bad metricLabelSelector: missing operator",
    (w) => `${CM}/v1beta2/namespaces/${w.ns}/pods/*/cpu_load?metricLabelSelector=a%20b`,
  ],
  [
    "bad metricLabelSelector: no key",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/metrics/cpu_load?metricLabelSelector=${enc("=x")}`,
  ],
  [
    "metricLabelSelector matching nothing: empty items",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/*/requests?metricLabelSelector=method%3DDELETE`,
  ],
  [
    "metricLabelSelector gt",
    (w) =>
      `${CM}/v1beta1/namespaces/${w.ns}/pods/db.0/requests?metricLabelSelector=${enc("method>1")}`,
  ],
  [
    "metricLabelSelector on namespaces/{ns}/metrics",
    (w) =>
      `${CM}/v1beta2/namespaces/${w.ns}/metrics/requests?metricLabelSelector=${enc("method in (GET)")}`,
  ],
  // Errors and empty results.
  ["unknown metric", (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/web/no_such_metric`],
  ["unknown resource", (w) => `${CM}/v1beta1/namespaces/${w.ns}/gizmos.example.com/g/cpu_load`],
  ["scope mismatch (root path for a namespaced metric)", () => `${CM}/v1beta1/pods/db.0/cpu_load`],
  ["scope mismatch, v1beta2 *", () => `${CM}/v1beta2/pods/*/cpu_load`],
  [
    "* matching zero objects",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/*/cpu_load?labelSelector=app%3Dnobody`,
  ],
  [
    "* over objects without values: empty items",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/*/requests?labelSelector=app%3Dworker`,
  ],
  [
    "metric of another resource",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/services/frontend/cpu_load`,
  ],
  [
    "bad labelSelector",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/*/cpu_load?labelSelector=a%20b`,
  ],
  [
    "bad labelSelector, named object",
    (w) => `${CM}/v1beta2/namespaces/${w.ns}/pods/db.0/cpu_load?labelSelector=${enc("x in (")}`,
  ],
  ["unknown route: too short", (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/db.0`],
  ["unknown route: root too short", () => `${CM}/v1beta1/pods/db.0`],
  ["unknown route: namespaces", () => `${CM}/v1beta1/namespaces`],
  [
    "unknown route: extra segment",
    (w) => `${CM}/v1beta1/namespaces/${w.ns}/pods/db.0/cpu_load/extra`,
  ],
  ["unknown route: v1", (w) => `${CM}/v1/namespaces/${w.ns}/pods/db.0/cpu_load`],
  // External metrics.
  ["external namespaced, no selector", (w) => `${EM}/namespaces/${w.ns}/dext_queue_depth`],
  [
    "external labelSelector =",
    (w) => `${EM}/namespaces/${w.ns}/dext_queue_depth?labelSelector=queue%3Dorders`,
  ],
  [
    "external labelSelector in",
    (w) =>
      `${EM}/namespaces/${w.ns}/dext_queue_depth?labelSelector=${enc("queue in (orders,mail)")}`,
  ],
  [
    "external labelSelector !k: empty",
    (w) => `${EM}/namespaces/${w.ns}/dext_queue_depth?labelSelector=${enc("!queue")}`,
  ],
  ["external other namespace", (w) => `${EM}/namespaces/${w.otherNs}/dext_queue_depth`],
  ["external namespace without series: empty", () => `${EM}/namespaces/default/dext_queue_depth`],
  ["external namespaced:false", (w) => `${EM}/namespaces/${w.ns}/global_backlog`],
  [
    "external namespaced:false with set-based selector",
    () =>
      `${EM}/namespaces/default/global_backlog?labelSelector=${enc("region in (us,eu),tier!=gold")}`,
  ],
  ["external unknown metric in default", () => `${EM}/namespaces/default/nope`],
  ["external unknown metric elsewhere", (w) => `${EM}/namespaces/${w.ns}/nope`],
  [
    "external bad labelSelector",
    (w) => `${EM}/namespaces/${w.ns}/dext_queue_depth?labelSelector=a%20b`,
  ],
  ["external unknown route: short", (w) => `${EM}/namespaces/${w.ns}`],
  ["external unknown route: no namespace", () => `${EM}/dext_queue_depth`],
  ["external unknown route: extra", (w) => `${EM}/namespaces/${w.ns}/dext_queue_depth/extra`],
  [
    "external unknown version",
    () => "/apis/external.metrics.k8s.io/v1beta2/namespaces/x/dext_queue_depth",
  ],
  // metrics.k8s.io (resourceRules).
  ["resource discovery v1beta1", () => MK],
  ["resource group document", () => "/apis/metrics.k8s.io"],
  ["resource nodes", () => `${MK}/nodes`],
  ["resource named node", (w) => `${MK}/nodes/${w.nodeName}`],
  ["resource nodes by label", () => `${MK}/nodes?labelSelector=${enc("kcm-diff notin (bare)")}`],
  ["resource nodes by label: only the bare node", () => `${MK}/nodes?labelSelector=kcm-diff`],
  [
    "resource nodes by metadata.name",
    (w) => `${MK}/nodes?fieldSelector=${enc(`metadata.name=${w.nodeName}`)}`,
  ],
  [
    "resource nodes by metadata.name!=",
    (w) => `${MK}/nodes?fieldSelector=${enc(`metadata.name!=${w.nodeName}`)}`,
  ],
  ["resource node that does not exist", () => `${MK}/nodes/nope`],
  ["resource node without samples", (w) => `${MK}/nodes/${w.bareNode}`],
  ["resource pods, all namespaces", () => `${MK}/pods`],
  ["resource pods of a namespace", (w) => `${MK}/namespaces/${w.ns}/pods`],
  ["resource pods of the other namespace", (w) => `${MK}/namespaces/${w.otherNs}/pods`],
  ["resource pods of a namespace without pods", () => `${MK}/namespaces/default/pods`],
  ["resource pods app=web", (w) => `${MK}/namespaces/${w.ns}/pods?labelSelector=app%3Dweb`],
  [
    "resource pods app in (db,worker,pending)",
    (w) => `${MK}/namespaces/${w.ns}/pods?labelSelector=${enc("app in (db,worker,pending)")}`,
  ],
  ["resource pods, all namespaces, !tier", () => `${MK}/pods?labelSelector=${enc("!tier")}`],
  [
    "resource pods by metadata.name",
    (w) => `${MK}/namespaces/${w.ns}/pods?fieldSelector=${enc("metadata.name=db.0")}`,
  ],
  [
    "resource pods by metadata.namespace, all namespaces",
    (w) => `${MK}/pods?fieldSelector=${enc(`metadata.namespace=${w.otherNs}`)}`,
  ],
  [
    "resource pods by metadata.name!= and a label",
    (w) =>
      `${MK}/namespaces/${w.ns}/pods?labelSelector=tier&fieldSelector=${enc("metadata.name!=db.0")}`,
  ],
  [
    "resource pods by a field that is not metadata",
    (w) => `${MK}/namespaces/${w.ns}/pods?fieldSelector=${enc("spec.nodeName=x")}`,
  ],
  ["resource named pod, three containers", (w) => `${MK}/namespaces/${w.ns}/pods/db.0`],
  ["resource named deployment pod", (w) => `${MK}/namespaces/${w.ns}/pods/${w.webPods[1] ?? ""}`],
  [
    "resource named pod of the other namespace",
    (w) => `${MK}/namespaces/${w.otherNs}/pods/other-1`,
  ],
  ["resource pod that does not exist", (w) => `${MK}/namespaces/${w.ns}/pods/nope`],
  ["resource pod in another namespace", (w) => `${MK}/namespaces/${w.otherNs}/pods/db.0`],
  ["resource pod without memory samples", (w) => `${MK}/namespaces/${w.ns}/pods/worker-1`],
  ["resource pod that is not Running", (w) => `${MK}/namespaces/${w.ns}/pods/pending-1`],
  ["resource bad labelSelector", () => `${MK}/pods?labelSelector=a%20b`],
  ["resource bad labelSelector, nodes", () => `${MK}/nodes?labelSelector=${enc("x in (")}`],
  ["resource bad fieldSelector", (w) => `${MK}/namespaces/${w.ns}/pods?fieldSelector=nope`],
  ["resource unknown route: resource", () => `${MK}/services`],
  ["resource unknown route: extra segment", (w) => `${MK}/namespaces/${w.ns}/pods/db.0/extra`],
  ["resource unknown route: namespaced nodes", (w) => `${MK}/namespaces/${w.ns}/nodes`],
];
