/**
 * @module apis/external-metrics.test
 * external.metrics.k8s.io JSON shaping, discovery, and Status bodies, over a fake provider.
 */
import { StatusError } from "../apimachinery/status.ts";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Requirement } from "../apimachinery/label-selector.ts";
import type { ExternalMetricsProvider } from "../providers/types.ts";
import { externalMetricsApi } from "./external-metrics.ts";

const calls: { namespace: string; selector: readonly Requirement[]; metric: string }[] = [];
const provider: ExternalMetricsProvider = {
  listAllExternalMetrics: () => [{ metric: "queue_depth" }, { metric: "lag" }],
  getExternalMetric(namespace, selector, info) {
    calls.push({ namespace, selector, metric: info.metric });
    return Promise.resolve([
      {
        metricName: info.metric,
        metricLabels: { queue: "a" },
        timestamp: new Date("2024-01-02T03:04:05.678Z"),
        value: 1500,
      },
      { metricName: info.metric, metricLabels: null, timestamp: new Date(0), value: 0.5 },
    ]);
  },
};
const api = externalMetricsApi(provider);

test("discovery: every metric namespaced, kind ExternalMetricValueList", () => {
  assert.equal(
    JSON.stringify(api.resourceList("v1beta1")),
    '{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"external.metrics.k8s.io/v1beta1","resources":[{"name":"queue_depth","singularName":"","namespaced":true,"kind":"ExternalMetricValueList","verbs":["get"]},{"name":"lag","singularName":"","namespaced":true,"kind":"ExternalMetricValueList","verbs":["get"]}]}',
  );
});

test("values: labels as given (null too), sample timestamps, canonical quantities", async () => {
  calls.length = 0;
  const r = await api.handle("v1beta1", {
    method: "GET",
    segments: ["namespaces", "ns", "queue_depth"],
    query: new URLSearchParams("labelSelector=queue%3Da"),
  });
  assert.equal(r.status, 200);
  assert.equal(
    JSON.stringify(r.body),
    '{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[{"metricName":"queue_depth","metricLabels":{"queue":"a"},"timestamp":"2024-01-02T03:04:05Z","value":"1500"},{"metricName":"queue_depth","metricLabels":null,"timestamp":"1970-01-01T00:00:00Z","value":"500m"}]}',
  );
  assert.deepEqual(calls, [
    {
      namespace: "ns",
      selector: [{ key: "queue", operator: "=", values: ["a"] }],
      metric: "queue_depth",
    },
  ]);
});

test("bad labelSelector: 400; other shapes: route 404 with details {}", async () => {
  const statusOf = async (segments: string[], query = "") => {
    try {
      await api.handle("v1beta1", { method: "GET", segments, query: new URLSearchParams(query) });
    } catch (e) {
      if (e instanceof StatusError) return JSON.stringify(e.status);
      throw e;
    }
    return "no error";
  };
  assert.equal(
    await statusOf(["namespaces", "ns", "m"], "labelSelector=x%20in%20(a"),
    `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"unable to parse requirement: found '', expected: ',' or ')'","reason":"BadRequest","code":400}`,
  );
  const route404 =
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}';
  for (const s of [
    ["namespaces", "ns"],
    ["m"],
    ["namespaces", "ns", "m", "x"],
    ["pods", "ns", "m"],
  ]) {
    assert.equal(await statusOf(s), route404, s.join("/"));
  }
});
