/**
 * @module providers/prometheus/providers.test
 * Custom and external providers over a fake Prometheus: values, references, PromQL sent, and the
 * Status each failure becomes (upstream provider_test.go facts).
 */
import { StatusError } from "../../apimachinery/status.ts";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseRequirements } from "../../apimachinery/label-selector-parser.ts";
import { RestMapper } from "../../kube/rest-mapper.ts";
import type { ResourceConverter } from "../../naming/resource-label.ts";
import { silentLogger } from "../../observability/logger.ts";
import type { QueryResult } from "../../prometheus/api-types.ts";
import { FakePrometheus } from "../../prometheus/fake-prometheus.ts";
import { createMetricNamer } from "../../naming/name-as.ts";
import { PrometheusCustomProvider } from "./custom-provider.ts";
import { PrometheusExternalProvider } from "./external-provider.ts";
import { CustomRegistry, ExternalRegistry } from "./registry.ts";
import { compileQueryTemplate, type CompiledRule } from "./rules.ts";

/** A Prometheus that answers every query with `result` (or fails) and records the PromQL. */
function fakePrometheus(result: QueryResult | Error) {
  return new FakePrometheus({ query: () => result });
}

const vector = (samples: [Record<string, string>, number][], t = 1700000000): QueryResult => ({
  resultType: "vector",
  result: samples.map(([metric, v]) => ({ metric, value: [t, v] })),
  warnings: [],
});

const labels: ResourceConverter = {
  resourcesForLabels: () => ({ resources: [], namespaced: true }),
  unresolvedOverrides: () => [],
  labelForResource: (gr) =>
    ({ namespaces: "namespace", pods: "pod", nodes: "node" })[gr.resource] ?? "unknown",
};

function rule(metricsQuery: string, namespaced = true): CompiledRule {
  return {
    origin: "rules[0]",
    seriesQuery: "",
    filters: [],
    namer: createMetricNamer({}),
    resources: labels,
    metricsQuery: compileQueryTemplate(metricsQuery, "metrics-query"),
    namespaced,
  };
}

const PODS = { group: "", resource: "pods" };
const NODES = { group: "", resource: "nodes" };
const mapper = RestMapper.fromResources([
  {
    group: "",
    version: "v1",
    resource: "pods",
    singular: "pod",
    kind: "Pod",
    namespaced: true,
    verbs: [],
  },
  {
    group: "",
    version: "v1",
    resource: "nodes",
    singular: "node",
    kind: "Node",
    namespaced: false,
    verbs: [],
  },
]);
const NOW = new Date("2024-01-02T03:04:05Z");

function customProvider(result: QueryResult | Error) {
  const prom = fakePrometheus(result);
  const registry = new CustomRegistry();
  const r = rule("sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)");
  registry.add(PODS, true, "cpu", { seriesName: "cpu_usage", rule: r });
  registry.add(NODES, false, "load", { seriesName: "node_load", rule: r });
  const provider = new PrometheusCustomProvider({
    prometheus: prom,
    mapper,
    kube: undefined,
    registry: () => registry,
    log: silentLogger(),
    now: () => NOW,
  });
  return { provider, queries: prom.queries };
}

async function statusOf(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof StatusError) return { code: e.status.code, message: e.status.message };
    throw e;
  }
  throw new Error("expected a StatusError");
}

describe("PrometheusCustomProvider", () => {
  const info = { groupResource: PODS, namespaced: true, metric: "cpu" };

  test("named object: the value of its sample, adapter clock, selector echoed", async () => {
    const { provider, queries } = customProvider(
      vector([
        [{ pod: "other" }, 9],
        [{ pod: "web-1" }, 0.25],
      ]),
    );
    const sel = parseRequirements("container=app");
    const v = await provider.getMetricByName("ns", "web-1", info, sel);
    assert.deepEqual(v, {
      describedObject: { kind: "Pod", namespace: "ns", name: "web-1", apiVersion: "/v1" },
      metric: "cpu",
      timestamp: NOW,
      value: 0.25,
      selector: sel,
    });
    assert.deepEqual(queries, [
      'sum(cpu_usage{container="app",namespace="ns",pod="web-1"}) by (pod)',
    ]);
  });

  test("root-scoped object: no namespace in the query or the reference", async () => {
    const { provider, queries } = customProvider(vector([[{ node: "n1" }, 3]]));
    const v = await provider.getMetricByName(
      "",
      "n1",
      { groupResource: NODES, namespaced: false, metric: "load" },
      [],
    );
    assert.deepEqual(v.describedObject, { kind: "Node", name: "n1", apiVersion: "/v1" });
    assert.deepEqual(queries, ['sum(node_load{node="n1"}) by (node)']);
  });

  test("no sample for the object: 404 naming it", async () => {
    const { provider } = customProvider(vector([[{ pod: "other" }, 1]]));
    assert.deepEqual(await statusOf(provider.getMetricByName("ns", "web-1", info, [])), {
      code: 404,
      message: "the server could not find the metric cpu for pods web-1",
    });
  });

  test("unknown metric or wrong scope: 404 without asking Prometheus", async () => {
    const { provider, queries } = customProvider(vector([]));
    assert.deepEqual(
      await statusOf(provider.getMetricByName("ns", "p", { ...info, metric: "nope" }, [])),
      { code: 404, message: "the server could not find the metric nope for pods" },
    );
    assert.deepEqual(
      await statusOf(provider.getMetricByName("", "p", { ...info, namespaced: false }, [])),
      { code: 404, message: "the server could not find the metric cpu for pods" },
    );
    assert.deepEqual(queries, []);
  });

  test("gt/lt metric selector: 404, as upstream reports query build failures", async () => {
    const { provider, queries } = customProvider(vector([]));
    assert.deepEqual(
      await statusOf(provider.getMetricByName("ns", "p", info, parseRequirements("x>1"))),
      { code: 404, message: "the server could not find the metric cpu for pods" },
    );
    assert.deepEqual(queries, []);
  });

  test("Prometheus failure or a non-vector: 500 unable to fetch metrics", async () => {
    for (const r of [
      new Error("connection refused"),
      { resultType: "scalar", result: [1, 2], warnings: [] } as QueryResult,
    ]) {
      const { provider } = customProvider(r);
      assert.deepEqual(await statusOf(provider.getMetricByName("ns", "p", info, [])), {
        code: 500,
        message: "Internal error occurred: unable to fetch metrics",
      });
    }
  });

  test("`*` without a Kubernetes client: 500 unable to list matching resources", async () => {
    const { provider } = customProvider(vector([]));
    assert.deepEqual(await statusOf(provider.getMetricBySelector("ns", "", info, [])), {
      code: 500,
      message: "Internal error occurred: unable to list matching resources",
    });
  });

  test("discovery lists the registry", () => {
    const { provider } = customProvider(vector([]));
    assert.deepEqual(provider.listAllMetrics(), [
      { groupResource: PODS, namespaced: true, metric: "cpu" },
      { groupResource: NODES, namespaced: false, metric: "load" },
    ]);
  });
});

describe("PrometheusExternalProvider", () => {
  function externalProvider(result: QueryResult | Error) {
    const prom = fakePrometheus(result);
    const registry = new ExternalRegistry();
    registry.add("depth", {
      seriesName: "queue_depth",
      rule: rule("sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)"),
    });
    registry.add("backlog", {
      seriesName: "backlog_total",
      rule: rule("sum(<<.Series>>{<<.LabelMatchers>>})", false),
    });
    const provider = new PrometheusExternalProvider({
      prometheus: prom,
      registry: () => registry,
      log: silentLogger(),
    });
    return { provider, queries: prom.queries };
  }

  test("every sample is an item, with all its labels and its own timestamp", async () => {
    const { provider, queries } = externalProvider(
      vector(
        [
          [{ queue: "a" }, 2],
          [{ queue: "b" }, 0.5],
        ],
        1700000000.5,
      ),
    );
    const items = await provider.getExternalMetric("ns", parseRequirements("queue in (a,b)"), {
      metric: "depth",
    });
    assert.deepEqual(items, [
      {
        metricName: "depth",
        metricLabels: { queue: "a" },
        timestamp: new Date(1700000000500),
        value: 2,
      },
      {
        metricName: "depth",
        metricLabels: { queue: "b" },
        timestamp: new Date(1700000000500),
        value: 0.5,
      },
    ]);
    assert.deepEqual(queries, ['sum(queue_depth{queue=~"a|b",namespace="ns"}) by (queue)']);
  });

  test("namespaced: false leaves the namespace out", async () => {
    const { provider, queries } = externalProvider(vector([]));
    assert.deepEqual(await provider.getExternalMetric("ns", [], { metric: "backlog" }), []);
    assert.deepEqual(queries, ["sum(backlog_total{})"]);
  });

  test("a scalar is one item with metricLabels null; a matrix is a 500", async () => {
    const scalar = externalProvider({
      resultType: "scalar",
      result: [1700000001, 4],
      warnings: [],
    });
    assert.deepEqual(await scalar.provider.getExternalMetric("ns", [], { metric: "depth" }), [
      { metricName: "depth", metricLabels: null, timestamp: new Date(1700000001000), value: 4 },
    ]);
    const matrix = externalProvider({ resultType: "matrix", result: [], warnings: [] });
    assert.deepEqual(
      await statusOf(matrix.provider.getExternalMetric("ns", [], { metric: "depth" })),
      { code: 500, message: "Internal error occurred: unable to fetch metrics" },
    );
  });

  test("unknown metric: upstream's message, 'namespaces' only for default", async () => {
    const { provider } = externalProvider(vector([]));
    assert.deepEqual(await statusOf(provider.getExternalMetric("default", [], { metric: "x" })), {
      code: 404,
      message: "the server could not find the metric x for namespaces",
    });
    assert.deepEqual(await statusOf(provider.getExternalMetric("ns", [], { metric: "x" })), {
      code: 404,
      message: "the server could not find the metric x for ",
    });
  });

  test("gt/lt selector or a Prometheus failure: 500", async () => {
    const { provider } = externalProvider(new Error("down"));
    for (const sel of ["x>1", "a=b"]) {
      assert.deepEqual(
        await statusOf(
          provider.getExternalMetric("ns", parseRequirements(sel), { metric: "depth" }),
        ),
        { code: 500, message: "Internal error occurred: unable to fetch metrics" },
      );
    }
  });
});
