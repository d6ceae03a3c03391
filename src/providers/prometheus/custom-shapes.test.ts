/**
 * @module providers/prometheus/custom-shapes.test
 * A kept shape is the rendering query-builder would give for that very request: never one of
 * another entry, resource, scope or metric selector, and rendered anew for a relist's new entry.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Requirement } from "../../apimachinery/label-selector.ts";
import { createMetricNamer } from "../../naming/name-as.ts";
import type { ResourceConverter } from "../../naming/resource-label.ts";
import { CustomShapes, SHAPES_PER_ENTRY } from "./custom-shapes.ts";
import { buildCustomQueryShape } from "./query-builder.ts";
import type { SeriesEntry } from "./registry.ts";
import { compileQueryTemplate } from "./rules.ts";

const labels: ResourceConverter = {
  resourcesForLabels: () => ({ resources: [], namespaced: true }),
  unresolvedOverrides: () => [],
  labelForResource: (gr) => (gr.resource === "namespaces" ? "namespace" : gr.resource.slice(0, -1)),
};

function entry(query: string, seriesName = "http_requests_total"): SeriesEntry {
  return {
    seriesName,
    rule: {
      origin: "rules[0]",
      seriesQuery: "",
      filters: [],
      namer: createMetricNamer({}),
      resources: labels,
      metricsQuery: compileQueryTemplate(query, "metrics-query"),
      namespaced: true,
    },
  };
}

const RATE = "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)";
const PODS = { group: "", resource: "pods" };
const SERVICES = { group: "", resource: "services" };
const sel = (key: string, value: string): Requirement[] => [
  { key, operator: "=", values: [value] },
];

function rendered(e: SeriesEntry, gr = PODS, namespace = "ns", metricSelector: Requirement[] = []) {
  return buildCustomQueryShape(e.rule.metricsQuery, e.rule.resources, {
    series: e.seriesName,
    groupResource: gr,
    namespace,
    metricSelector,
  });
}

test("each request gets the rendering of its own entry, resource, scope and selector", () => {
  const shapes = new CustomShapes();
  const a = entry(RATE);
  const b = entry("avg(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)");
  const cases: [SeriesEntry, typeof PODS, string, Requirement[]][] = [
    [a, PODS, "ns", []],
    [a, PODS, "", []],
    [a, SERVICES, "ns", []],
    [a, PODS, "ns", sel("verb", "GET")],
    [a, PODS, "ns", sel("verb", "PUT")],
    [b, PODS, "ns", []],
  ];
  for (let round = 0; round < 2; round++) {
    for (const [e, gr, ns, ms] of cases) {
      assert.deepEqual(shapes.shape(e, gr, ns, ms), rendered(e, gr, ns, ms));
    }
  }
  const texts = new Set(cases.map(([e, gr, ns, ms]) => shapes.shape(e, gr, ns, ms).text));
  assert.equal(texts.size, cases.length);
});

test("only whether a namespace is named counts, not which one", () => {
  const shapes = new CustomShapes();
  const a = entry(RATE);
  const first = shapes.shape(a, PODS, "team-a", []);
  assert.equal(shapes.shape(a, PODS, "team-b", []), first);
  assert.deepEqual(first, rendered(a, PODS, "team-b"));
});

test("a relist's new entry is rendered anew", () => {
  const shapes = new CustomShapes();
  const before = shapes.shape(entry(RATE, "old_total"), PODS, "ns", []);
  const after = shapes.shape(entry(RATE, "new_total"), PODS, "ns", []);
  assert.match(before.text, /old_total/);
  assert.match(after.text, /new_total/);
});

test("a rendering that throws keeps nothing and throws again", () => {
  const shapes = new CustomShapes();
  const bad = entry(RATE);
  const gt: Requirement[] = [{ key: "x", operator: "gt", values: ["1"] }];
  for (let i = 0; i < 2; i++) assert.throws(() => shapes.shape(bad, PODS, "ns", gt));
});

test("bounded per entry", () => {
  const shapes = new CustomShapes();
  const a = entry(RATE);
  const first = shapes.shape(a, PODS, "ns", sel("k", "0"));
  for (let i = 1; i <= SHAPES_PER_ENTRY; i++) shapes.shape(a, PODS, "ns", sel("k", String(i)));
  const again = shapes.shape(a, PODS, "ns", sel("k", "0"));
  assert.notEqual(again, first);
  assert.deepEqual(again, first);
});
