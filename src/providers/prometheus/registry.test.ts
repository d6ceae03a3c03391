/**
 * @module providers/prometheus/registry.test
 * Series registry: last write wins, scope in the key, namespaces/nodes never namespaced
 * (upstream series_registry_test.go facts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createMetricNamer } from "../../naming/name-as.ts";
import { compileQueryTemplate, type CompiledRule } from "./rules.ts";
import { CustomRegistry, ExternalRegistry } from "./registry.ts";

// The registry only stores rules; rules that differ in origin are enough to tell them apart.
const rule = (origin: string): CompiledRule => ({
  origin,
  seriesQuery: "",
  filters: [],
  namer: createMetricNamer({}),
  resources: {
    resourcesForLabels: () => ({ resources: [], namespaced: true }),
    unresolvedOverrides: () => [],
    labelForResource: () => "pod",
  },
  metricsQuery: compileQueryTemplate("<<.Series>>", "metrics-query"),
  namespaced: true,
});
const PODS = { group: "", resource: "pods" };
const DEPLOY = { group: "apps", resource: "deployments" };

test("the last series seen for a (resource, scope, metric) wins", () => {
  const r = new CustomRegistry();
  r.add(PODS, true, "http_requests", { seriesName: "http_requests_total", rule: rule("rules[0]") });
  r.add(PODS, true, "http_requests", { seriesName: "http_requests_count", rule: rule("rules[1]") });
  const e = r.get({ groupResource: PODS, namespaced: true, metric: "http_requests" });
  assert.equal(e?.seriesName, "http_requests_count");
  assert.equal(e.rule.origin, "rules[1]");
  assert.equal(r.size, 1);
  assert.deepEqual(r.list(), [{ groupResource: PODS, namespaced: true, metric: "http_requests" }]);
});

test("scope is part of the key: namespaced and root-scoped entries are distinct", () => {
  const r = new CustomRegistry();
  r.add(DEPLOY, true, "m", { seriesName: "a", rule: rule("x") });
  assert.equal(r.get({ groupResource: DEPLOY, namespaced: false, metric: "m" }), undefined);
  assert.equal(r.get({ groupResource: DEPLOY, namespaced: true, metric: "m" })?.seriesName, "a");
  // A cluster-scoped resource other than namespaces/nodes keeps the series' scope (upstream quirk).
  r.add({ group: "", resource: "persistentvolumes" }, true, "m", {
    seriesName: "b",
    rule: rule("x"),
  });
  assert.deepEqual(
    r.list().map((i) => [i.groupResource.resource, i.namespaced]),
    [
      ["deployments", true],
      ["persistentvolumes", true],
    ],
  );
});

test("namespaces and nodes are never namespaced", () => {
  const r = new CustomRegistry();
  r.add({ group: "", resource: "namespaces" }, true, "m", { seriesName: "s", rule: rule("x") });
  r.add({ group: "", resource: "nodes" }, true, "m", { seriesName: "s", rule: rule("x") });
  assert.deepEqual(r.list(), [
    { groupResource: { group: "", resource: "namespaces" }, namespaced: false, metric: "m" },
    { groupResource: { group: "", resource: "nodes" }, namespaced: false, metric: "m" },
  ]);
  assert.equal(
    r.get({ groupResource: { group: "", resource: "nodes" }, namespaced: true, metric: "m" }),
    undefined,
  );
  // A group named like a core resource is not core.
  r.add({ group: "example.com", resource: "nodes" }, true, "m", {
    seriesName: "s",
    rule: rule("x"),
  });
  assert.equal(
    r.get({
      groupResource: { group: "example.com", resource: "nodes" },
      namespaced: true,
      metric: "m",
    })?.seriesName,
    "s",
  );
});

test("external metrics are keyed by name only; last wins", () => {
  const r = new ExternalRegistry();
  r.add("queue_depth", { seriesName: "a", rule: rule("externalRules[0]") });
  r.add("lag", { seriesName: "lag", rule: rule("externalRules[0]") });
  r.add("queue_depth", { seriesName: "b", rule: rule("externalRules[1]") });
  assert.equal(r.get("queue_depth")?.seriesName, "b");
  assert.equal(r.get("nope"), undefined);
  assert.deepEqual(r.list(), [{ metric: "queue_depth" }, { metric: "lag" }]);
  assert.equal(r.size, 2);
});
