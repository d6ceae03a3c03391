/**
 * prometheus-adapter's pkg/resourceprovider/provider_test.go, as our own cases: the default
 * resourceRules of the config generator (rate window 1m), a fake Prometheus answering by query.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Quantity } from "../../apimachinery/quantity.ts";
import { goFloatToInt64 } from "../../apimachinery/quantity-conversions.ts";
import { defaultConfig } from "../../config/defaults.ts";
import { RestMapper } from "../../kube/rest-mapper.ts";
import { silentLogger } from "../../observability/logger.ts";
import type { QueryResult, VectorSample } from "../../prometheus/api-types.ts";
import { namingMapper } from "../prometheus/rules.ts";
import { PrometheusResourceSource } from "./prometheus-source.ts";
import type { PodUsage, ResourceUsage } from "./types.ts";

const mapper = RestMapper.fromResources(
  (
    [
      ["pods", "pod", "Pod", true],
      ["nodes", "node", "Node", false],
      ["namespaces", "namespace", "Namespace", false],
    ] as const
  ).map(([resource, singular, kind, namespaced]) => ({
    group: "",
    version: "v1",
    resource,
    singular,
    kind,
    namespaced,
    verbs: [],
  })),
);

function podSample(ns: string, pod: string, container: string, v: number, tsMs: number) {
  return {
    metric: { namespace: ns, pod, container },
    value: [tsMs / 1000, v] as const,
  } satisfies VectorSample;
}

function nodeSample(node: string, v: number, tsMs: number): VectorSample {
  return { metric: { instance: node, id: "/" }, value: [tsMs / 1000, v] };
}

function vector(...result: VectorSample[]): QueryResult {
  return { resultType: "vector", result, warnings: [] };
}

function resList(cpu: number, memory: number): { cpu: string; memory: string } {
  return {
    cpu: Quantity.fromMilli(goFloatToInt64(cpu * 1000), "DecimalSI").toString(),
    memory: Quantity.fromMilli(goFloatToInt64(memory * 1000), "BinarySI").toString(),
  };
}

function strings(u: ResourceUsage): { cpu: string; memory: string } {
  return { cpu: u.cpu.toString(), memory: u.memory.toString() };
}

function containers(p: PodUsage | undefined) {
  return p?.containers.map((c) => ({ name: c.name, ...strings(c.usage) }));
}

function setup() {
  const rules = defaultConfig({ rateInterval: "1m" }).resourceRules;
  assert.ok(rules);
  const answers = new Map<string, QueryResult>();
  const asked: string[] = [];
  const source = new PrometheusResourceSource({
    prometheus: {
      query: (q: string) => {
        asked.push(q);
        const a = answers.get(q);
        return a ? Promise.resolve(a) : Promise.reject(new Error(`unexpected query ${q}`));
      },
    },
    rules,
    mapper: namingMapper(mapper),
    log: silentLogger(),
  });
  const podQuery = (which: "cpu" | "memory", ns: string, ...names: string[]) =>
    source.buildQuery(source[which], ns, names, false);
  const nodeQuery = (which: "cpu" | "memory", ...names: string[]) =>
    source.buildQuery(source[which], "", names, true);
  return { source, answers, asked, podQuery, nodeQuery };
}

const ONE_MINUTE_NS = 60_000_000_000n;

describe("Prometheus resource metrics source (prometheus-adapter provider_test.go)", () => {
  test("queries are grouped by pod and container, per namespace, and by node", () => {
    const { podQuery, nodeQuery } = setup();
    assert.equal(
      podQuery("cpu", "some-ns", "pod1", "pod3"),
      'sum(rate(container_cpu_usage_seconds_total{namespace="some-ns",pod=~"pod1|pod3"}[1m])) by (pod,container)',
    );
    assert.equal(
      podQuery("memory", "other-ns", "pod27"),
      'sum(container_memory_working_set_bytes{namespace="other-ns",pod="pod27"}) by (pod,container)',
    );
    assert.equal(
      nodeQuery("cpu", "node1", "node2"),
      "sum(rate(container_cpu_usage_seconds_total{instance=~\"node1|node2\", id='/'}[1m])) by (instance)",
    );
  });

  test("lists metrics of pods across different namespaces", async () => {
    const { source, answers, podQuery } = setup();
    answers.set(
      podQuery("cpu", "some-ns", "pod1", "pod3"),
      vector(
        podSample("some-ns", "pod1", "cont1", 1100.0, 10),
        podSample("some-ns", "pod1", "cont2", 1110.0, 20),
        podSample("some-ns", "pod3", "cont1", 1300.0, 10),
        podSample("some-ns", "pod3", "cont2", 1310.0, 20),
      ),
    );
    answers.set(
      podQuery("cpu", "other-ns", "pod27"),
      vector(podSample("other-ns", "pod27", "cont1", 2200.0, 270)),
    );
    answers.set(
      podQuery("memory", "some-ns", "pod1", "pod3"),
      vector(
        podSample("some-ns", "pod1", "cont1", 3100.0, 11),
        podSample("some-ns", "pod1", "cont2", 3110.0, 21),
        podSample("some-ns", "pod3", "cont1", 3300.0, 11),
        podSample("some-ns", "pod3", "cont2", 3310.0, 21),
      ),
    );
    answers.set(
      podQuery("memory", "other-ns", "pod27"),
      vector(podSample("other-ns", "pod27", "cont1", 4200.0, 271)),
    );
    const pods = [
      { namespace: "some-ns", name: "pod1", labels: {} },
      { namespace: "some-ns", name: "pod3", labels: {} },
      { namespace: "other-ns", name: "pod27", labels: {} },
    ];
    const got = await source.podMetrics(pods);
    // The reported times are the earliest of each pod.
    assert.deepEqual(
      got.map((p) => p?.timestamp.getTime()),
      [10, 10, 270],
    );
    assert.deepEqual(
      got.map((p) => p?.windowNs),
      [ONE_MINUTE_NS, ONE_MINUTE_NS, ONE_MINUTE_NS],
    );
    assert.deepEqual(containers(got[0]), [
      { name: "cont1", ...resList(1100.0, 3100.0) },
      { name: "cont2", ...resList(1110.0, 3110.0) },
    ]);
    assert.deepEqual(containers(got[1]), [
      { name: "cont1", ...resList(1300.0, 3300.0) },
      { name: "cont2", ...resList(1310.0, 3310.0) },
    ]);
    assert.deepEqual(containers(got[2]), [{ name: "cont1", ...resList(2200.0, 4200.0) }]);
    assert.equal(containers(got[0])?.[0]?.cpu, "1100");
    assert.equal(containers(got[0])?.[0]?.memory, "3100");
  });

  test("returns no metrics for missing pods, but still returns partial results", async () => {
    const { source, answers, podQuery } = setup();
    answers.set(
      podQuery("cpu", "some-ns", "pod1", "pod-nonexistant"),
      vector(
        podSample("some-ns", "pod1", "cont1", 1100.0, 10),
        podSample("some-ns", "pod1", "cont2", 1110.0, 20),
      ),
    );
    answers.set(
      podQuery("memory", "some-ns", "pod1", "pod-nonexistant"),
      vector(
        podSample("some-ns", "pod1", "cont1", 3100.0, 11),
        podSample("some-ns", "pod1", "cont2", 3110.0, 21),
      ),
    );
    const got = await source.podMetrics([
      { namespace: "some-ns", name: "pod1", labels: {} },
      { namespace: "some-ns", name: "pod-nonexistant", labels: {} },
    ]);
    assert.equal(got.length, 2);
    assert.equal(got[1], undefined);
    assert.deepEqual(containers(got[0]), [
      { name: "cont1", ...resList(1100.0, 3100.0) },
      { name: "cont2", ...resList(1110.0, 3110.0) },
    ]);
    assert.equal(got[0]?.timestamp.getTime(), 10);
  });

  test("lists metrics for nodes", async () => {
    const { source, answers, nodeQuery } = setup();
    answers.set(
      nodeQuery("cpu", "node1", "node2"),
      vector(nodeSample("node1", 1100.0, 10), nodeSample("node2", 1200.0, 14)),
    );
    answers.set(
      nodeQuery("memory", "node1", "node2"),
      vector(nodeSample("node1", 2100.0, 11), nodeSample("node2", 2200.0, 12)),
    );
    const got = await source.nodeMetrics([
      { name: "node1", labels: {} },
      { name: "node2", labels: {} },
    ]);
    assert.deepEqual(
      got.map((n) => n?.timestamp.getTime()),
      [10, 12],
    );
    assert.deepEqual(
      got.map((n) => n && strings(n.usage)),
      [resList(1100.0, 2100.0), resList(1200.0, 2200.0)],
    );
    assert.equal(got[0]?.windowNs, ONE_MINUTE_NS);
  });

  test("returns no metrics for missing nodes, but still returns partial results", async () => {
    const { source, answers, nodeQuery } = setup();
    answers.set(
      nodeQuery("cpu", "node1", "node2", "node3"),
      vector(nodeSample("node1", 1100.0, 10), nodeSample("node2", 1200.0, 14)),
    );
    answers.set(
      nodeQuery("memory", "node1", "node2", "node3"),
      vector(nodeSample("node1", 2100.0, 11), nodeSample("node2", 2200.0, 12)),
    );
    const got = await source.nodeMetrics(
      ["node1", "node2", "node3"].map((name) => ({ name, labels: {} })),
    );
    assert.deepEqual(
      got.map((n) => n && strings(n.usage)),
      [resList(1100.0, 2100.0), resList(1200.0, 2200.0), undefined],
    );
    assert.deepEqual(
      got.map((n) => n?.timestamp.getTime()),
      [10, 12, undefined],
    );
  });

  test("NaN and negative values become 0; a container missing one resource gets 0", async () => {
    const { source, answers, podQuery } = setup();
    answers.set(
      podQuery("cpu", "ns", "p"),
      vector(podSample("ns", "p", "a", NaN, 5000), podSample("ns", "p", "b", -2, 5000)),
    );
    answers.set(
      podQuery("memory", "ns", "p"),
      vector(podSample("ns", "p", "a", 1024, 4000), podSample("ns", "p", "c", 2048, 6000)),
    );
    const [got] = await source.podMetrics([{ namespace: "ns", name: "p", labels: {} }]);
    assert.deepEqual(containers(got), [
      { name: "a", cpu: "0", memory: "1Ki" },
      { name: "b", cpu: "0", memory: "0" },
      { name: "c", cpu: "0", memory: "2Ki" },
    ]);
    assert.equal(got?.timestamp.getTime(), 4000);
  });

  test("a pod with CPU but no memory results is left out; a failed query leaves its namespace out", async () => {
    const { source, answers, podQuery } = setup();
    answers.set(podQuery("cpu", "ns", "p"), vector(podSample("ns", "p", "a", 0.25, 1000)));
    answers.set(podQuery("memory", "ns", "p"), vector());
    answers.set(podQuery("cpu", "ok", "q"), vector(podSample("ok", "q", "a", 0.016, 1000)));
    answers.set(podQuery("memory", "ok", "q"), vector(podSample("ok", "q", "a", 1e6, 1000)));
    const got = await source.podMetrics([
      { namespace: "ns", name: "p", labels: {} },
      { namespace: "broken", name: "x", labels: {} },
      { namespace: "ok", name: "q", labels: {} },
    ]);
    assert.equal(got[0], undefined);
    assert.equal(got[1], undefined);
    assert.deepEqual(containers(got[2]), [{ name: "a", cpu: "16m", memory: "1000000" }]);
  });

  test("window: 0 when resourceRules has none", () => {
    const rules = defaultConfig().resourceRules;
    assert.ok(rules);
    const noWindow = { cpu: rules.cpu, memory: rules.memory };
    const s = new PrometheusResourceSource({
      prometheus: { query: () => Promise.reject(new Error("unused")) },
      rules: noWindow,
      mapper: namingMapper(mapper),
      log: silentLogger(),
    });
    assert.equal(s.windowNs, 0n);
  });
});
