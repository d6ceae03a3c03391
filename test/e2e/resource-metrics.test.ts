/**
 * metrics.k8s.io from the adapter as a process (plain HTTP), from both sources: kubelets (the
 * node agent's /metrics/resource) and Prometheus (resourceRules over cAdvisor series). Values are
 * checked against what /proc says about the pods' processes and the node.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseQuantity } from "../../src/apimachinery/quantity.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { getJson, startAdapter, type RunningAdapter } from "../support/adapter.ts";
import { freshNamespace, kubectl, testCluster, waitFor } from "../support/cluster.ts";
import { nodeUsedBytes, runningPodPids, treeRssBytes, within } from "../support/proc-usage.ts";
import { EXAMPLE_CONFIG, configWithResourceRules } from "../support/resource-rules-config.ts";

const T = { timeout: 240_000 };

interface PodMetricsJson {
  kind?: string;
  apiVersion?: string;
  metadata: { name: string; namespace?: string; creationTimestamp: string; labels?: object };
  timestamp: string;
  window: string;
  containers: { name: string; usage: { cpu: string; memory: string } }[];
}
interface NodeMetricsJson {
  kind?: string;
  metadata: { name: string; creationTimestamp: string; labels?: object };
  timestamp: string;
  window: string;
  usage: { cpu: string; memory: string };
}
interface List<T> {
  kind: string;
  apiVersion: string;
  metadata: object;
  items: T[];
}

const QUANTITY = /^\d+(n|u|m|k|Ki|Mi|Gi|M|G)?$/;
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

let info: ClusterInfo;
let ns: string;
let pids: Map<string, number>;
const adapters: RunningAdapter[] = [];

before(async () => {
  info = await testCluster();
  ns = await freshNamespace(info, "resource");
  await kubectl(
    info,
    ["-n", ns, "apply", "-f", "-"],
    readFileSync("examples/resource/nginx.yaml", "utf8"),
  );
  pids = await runningPodPids(info, ns, "app=web", 2);
});

after(async () => {
  for (const a of adapters) await a.stop();
  if (ns) await kubectl(info, ["delete", "namespace", ns, "--wait=false"]);
});

async function adapter(extraArgs: string[], config = EXAMPLE_CONFIG): Promise<RunningAdapter> {
  const a = await startAdapter({
    prometheusUrl: info.prometheusUrl,
    kubeconfig: info.kubeconfig,
    config,
    relistInterval: "5s",
    extraArgs,
  });
  adapters.push(a);
  return a;
}

/** Waits until the namespace's PodMetricsList has both pods. */
async function podList(a: RunningAdapter): Promise<List<PodMetricsJson>> {
  return waitFor(
    "PodMetrics of both nginx pods",
    async () => {
      const r = await getJson(a, `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods`);
      const body = r.body as List<PodMetricsJson>;
      return r.status === 200 && body.items.length === 2 ? body : undefined;
    },
    120_000,
    1000,
  );
}

async function checkSource(a: RunningAdapter, windowRe: RegExp): Promise<void> {
  const disc = await getJson(a, "/apis/metrics.k8s.io/v1beta1");
  assert.deepEqual(
    (disc.body as { resources: { name: string; kind: string }[] }).resources.map(
      (r) => `${r.name}:${r.kind}`,
    ),
    ["nodes:NodeMetrics", "pods:PodMetrics"],
  );
  const list = await podList(a);
  assert.equal(list.kind, "PodMetricsList");
  assert.equal(list.apiVersion, "metrics.k8s.io/v1beta1");
  assert.deepEqual(list.metadata, {});
  const names = list.items.map((i) => i.metadata.name);
  assert.deepEqual(names, [...names].sort());
  for (const item of list.items) {
    assert.deepEqual(Object.keys(item), ["metadata", "timestamp", "window", "containers"]);
    assert.equal(item.metadata.namespace, ns);
    assert.deepEqual(item.metadata.labels, {
      app: "web",
      "pod-template-hash": (item.metadata.labels as Record<string, string>)["pod-template-hash"],
    });
    assert.match(item.metadata.creationTimestamp, TIME);
    assert.match(item.timestamp, TIME);
    assert.match(item.window, windowRe);
    assert.equal(item.containers.length, 1);
    const c = item.containers[0];
    assert.equal(c?.name, "nginx");
    assert.match(c.usage.cpu, QUANTITY);
    assert.match(c.usage.memory, QUANTITY);
    const pid = pids.get(item.metadata.name);
    assert.ok(pid, item.metadata.name);
    within(parseQuantity(c.usage.memory).toNumber(), treeRssBytes(pid), "pod memory");
    // Idle nginx: well under a core.
    assert.ok(parseQuantity(c.usage.cpu).toNumber() < 0.5, c.usage.cpu);
  }

  // A single pod, selectors, and a missing pod.
  const [first] = names;
  const one = await getJson(a, `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods/${first ?? ""}`);
  assert.equal(one.status, 200);
  assert.equal((one.body as PodMetricsJson).kind, "PodMetrics");
  const sel = await getJson(
    a,
    `/apis/metrics.k8s.io/v1beta1/pods?labelSelector=app%3Dweb&fieldSelector=metadata.name%3D${first ?? ""}`,
  );
  assert.deepEqual(
    (sel.body as List<PodMetricsJson>).items.map((i) => i.metadata.name),
    [first],
  );
  const none = await getJson(
    a,
    `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods?labelSelector=app%3Dnope`,
  );
  assert.deepEqual((none.body as List<PodMetricsJson>).items, []);
  const missing = await getJson(a, `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods/nope`);
  assert.equal(missing.status, 404);
  // A pod that does not exist: the pod lister's NotFound, as metrics-server and prometheus-adapter.
  assert.equal((missing.body as { message: string }).message, 'pods "nope" not found');
  const bad = await getJson(a, "/apis/metrics.k8s.io/v1beta1/pods?labelSelector=a%20b");
  assert.equal(bad.status, 400);

  // Nodes.
  const nodes = await waitFor(
    "NodeMetrics of the node",
    async () => {
      const r = await getJson(a, "/apis/metrics.k8s.io/v1beta1/nodes");
      const body = r.body as List<NodeMetricsJson>;
      return r.status === 200 && body.items.length === 1 ? body : undefined;
    },
    60_000,
    1000,
  );
  assert.equal(nodes.kind, "NodeMetricsList");
  const node = nodes.items[0];
  assert.ok(node);
  assert.equal(node.metadata.name, info.nodeName);
  assert.deepEqual(Object.keys(node), ["metadata", "timestamp", "window", "usage"]);
  assert.match(node.usage.cpu, QUANTITY);
  const cores = parseQuantity(node.usage.cpu).toNumber();
  assert.ok(cores >= 0 && cores <= cpus().length * 1.1, node.usage.cpu);
  within(parseQuantity(node.usage.memory).toNumber(), nodeUsedBytes(), "node memory");
  const oneNode = await getJson(a, `/apis/metrics.k8s.io/v1beta1/nodes/${info.nodeName}`);
  assert.equal((oneNode.body as NodeMetricsJson).kind, "NodeMetrics");
  const noNode = await getJson(a, "/apis/metrics.k8s.io/v1beta1/nodes/nope");
  assert.equal(noNode.status, 404);
  assert.equal((noNode.body as { message: string }).message, 'node "nope" not found');
}

describe("metrics.k8s.io v1beta1", () => {
  test(
    "from kubelets (--resource-metrics-source=kubelet): shapes and values match /proc",
    T,
    async () => {
      const a = await adapter([
        "--resource-metrics-source=kubelet",
        "--kubelet-scheme=http",
        "--kubelet-use-node-status-port",
        "--metric-resolution=10s",
        "--kubelet-request-timeout=5s",
      ]);
      // The window is the time between the last two scrapes: about the resolution.
      await checkSource(a, /^\d+(\.\d+)?m?s$/);
    },
  );

  test("from Prometheus (resourceRules): shapes and values match /proc", T, async () => {
    const a = await adapter([], configWithResourceRules());
    await checkSource(a, /^30s$/);
  });

  test("--disable-* flags leave groups out of discovery", T, async () => {
    const a = await adapter(["--disable-resource-metrics", "--disable-external-metrics"]);
    const groups = ((await getJson(a, "/apis")).body as { groups: { name: string }[] }).groups.map(
      (g) => g.name,
    );
    assert.deepEqual(groups, ["custom.metrics.k8s.io"]);
    const r = await getJson(a, "/apis/metrics.k8s.io/v1beta1/pods");
    assert.equal(r.status, 404);
    const b = await adapter([
      "--disable-custom-metrics",
      "--resource-metrics-source=kubelet",
      "--kubelet-scheme=http",
    ]);
    const groupsB = ((await getJson(b, "/apis")).body as { groups: { name: string }[] }).groups.map(
      (g) => g.name,
    );
    assert.deepEqual(groupsB, ["external.metrics.k8s.io", "metrics.k8s.io"]);
  });
});
