/**
 * @module providers/prometheus/query-shape.test
 * Which rendered metricsQuery shapes query grouping accepts (each value depends only on its own
 * namespace and object) and which it leaves to per-request queries, and the grouped PromQL.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseRequirements } from "../../apimachinery/label-selector-parser.ts";
import type { ResourceConverter } from "../../naming/resource-label.ts";
import { buildCustomQueryShape } from "./query-builder.ts";
import { analyzeShape, groupedQuery, type QueryShape } from "./query-shape.ts";
import { compileQueryTemplate } from "./rules.ts";

const labels: ResourceConverter = {
  resourcesForLabels: () => ({ resources: [], namespaced: true }),
  unresolvedOverrides: () => [],
  labelForResource: (gr) =>
    ({ namespaces: "namespace", pods: "pod", services: "service" })[gr.resource] ?? "unknown",
};

const PODS = { group: "", resource: "pods" };
const NAMESPACES = { group: "", resource: "namespaces" };

function shape(
  template: string,
  o: { namespace?: string; selector?: string; resource?: typeof PODS } = {},
): QueryShape {
  return analyzeShape(
    buildCustomQueryShape(compileQueryTemplate(template, "t"), labels, {
      series: "m",
      groupResource: o.resource ?? PODS,
      namespace: o.namespace ?? "ns",
      metricSelector: parseRequirements(o.selector ?? ""),
    }),
  );
}

function grouped(template: string, namespaces: string[], names: string[], selector = ""): string {
  const s = shape(template, { selector });
  assert.ok(s.groupable, s.groupable ? "" : s.reason);
  return groupedQuery(s, namespaces, names);
}

describe("accepted shapes", () => {
  const accepted = [
    "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
    "max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
    "sum by (<<.GroupBy>>) (<<.Series>>{<<.LabelMatchers>>})",
    'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[1m])) by (<<.GroupBy>>)',
    "avg(irate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)",
    "min(increase(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)",
    "count(delta(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)",
    "sum(avg_over_time(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)",
    "sum(quantile_over_time(0.9, <<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)",
    "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>) / 1024",
    "100 * (sum(<<.Series>>{<<.LabelMatchers>>} > bool 0) by (<<.GroupBy>>))",
    "-sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
    "abs(sum(clamp_min(<<.Series>>{<<.LabelMatchers>>}, 0)) by (<<.GroupBy>>))",
    "max(sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>, container)) by (<<.GroupBy>>)",
    "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>, namespace)",
    "stddev(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
  ];
  for (const t of accepted) {
    test(t, () => {
      const s = shape(t);
      assert.equal(s.groupable, true, s.groupable ? "" : s.reason);
    });
  }

  test("root-scoped objects (namespaces) group by their names alone", () => {
    const s = shape("sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)", {
      namespace: "",
      resource: NAMESPACES,
    });
    assert.ok(s.groupable);
    assert.equal(groupedQuery(s, [""], ["a", "b"]), 'sum(m{namespace=~"a|b"}) by (namespace)');
  });
});

describe("rejected shapes", () => {
  const rejected: [string, RegExp][] = [
    ["topk(1, <<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)", /topk|Topk/i],
    ["quantile(0.9, <<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)", /Quantile/],
    ['count_values("v", <<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)', /CountValues/],
    ["sum without (container) (<<.Series>>{<<.LabelMatchers>>})", /without/],
    ["sum(<<.Series>>{<<.LabelMatchers>>})", /without `by`/],
    ["sum(<<.Series>>{<<.LabelMatchers>>}) by (container)", /not by the pod label/],
    ["sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>, container)", /outermost/],
    ["<<.Series>>{<<.LabelMatchers>>}", /not aggregated/],
    ["rate(<<.Series>>{<<.LabelMatchers>>}[1m])", /not aggregated/],
    [
      "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>) / sum(other{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
      /between vectors|not used once/,
    ],
    [
      "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>) / on(pod) group_left kube_pod_info",
      /between vectors|MatchingModifier/,
    ],
    ["sum(<<.Series>>{<<.LabelMatchers>>} offset 5m) by (<<.GroupBy>>)", /OffsetExpr/],
    ["sum(<<.Series>>{<<.LabelMatchers>>} @ 100) by (<<.GroupBy>>)", /StepInvariantExpr/],
    ["sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m:1m])) by (<<.GroupBy>>)", /SubqueryExpr/],
    ["sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m+1m])) by (<<.GroupBy>>)", /computed/],
    [
      'sum(label_replace(<<.Series>>{<<.LabelMatchers>>}, "pod", "$1", "x", "(.*)")) by (<<.GroupBy>>)',
      /LabelReplace/,
    ],
    ["sum(absent(<<.Series>>{<<.LabelMatchers>>})) by (<<.GroupBy>>)", /Absent/],
    ["sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>) or vector(0)", /Or/],
    [
      'sum(<<.Series>>{pod=~"<<index .LabelValuesByName "pod">>"}) by (<<.GroupBy>>)',
      /LabelValuesByName/,
    ],
    [
      'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>) * on() group_left() max(x{namespace="<<index .LabelValuesByName "namespace">>"})',
      /LabelValuesByName/,
    ],
    ["sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>", /parse/],
    [
      "histogram_quantile(0.9, sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (le, <<.GroupBy>>))",
      /HistogramQuantile/,
    ],
    ["sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>) * scalar(up)", /Scalar|between/],
  ];
  for (const [t, why] of rejected) {
    test(t, () => {
      const s = shape(t);
      if (s.groupable) assert.fail("accepted");
      assert.match(s.reason, why);
    });
  }
});

describe("groupedQuery", () => {
  const T = "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)";

  test("unions the matchers and adds the namespace label to the grouping", () => {
    assert.equal(
      grouped(T, ["a", "b"], ["p1", "p2", "p3"]),
      'sum(m{namespace=~"a|b",pod=~"p1|p2|p3"}) by (pod,namespace)',
    );
  });

  test("one namespace and one name use equality", () => {
    assert.equal(grouped(T, ["a"], ["p1"]), 'sum(m{namespace="a",pod="p1"}) by (pod,namespace)');
  });

  test("values are regex-escaped, the metric selector kept", () => {
    assert.equal(
      grouped(T, ["a"], ["x.y", "z"], "tier in (web)"),
      'sum(m{tier=~"web",namespace="a",pod=~"x\\\\.y|z"}) by (pod,namespace)',
    );
  });

  test("every aggregation gets the namespace label; one already grouped by it is left", () => {
    assert.equal(
      grouped(
        "max(sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>, container)) by (<<.GroupBy>>)",
        ["a", "b"],
        ["p"],
      ),
      'max(sum(rate(m{namespace=~"a|b",pod="p"}[1m])) by (pod,container,namespace)) by (pod,namespace)',
    );
    assert.equal(
      grouped(
        "sum by (namespace, <<.GroupBy>>) (<<.Series>>{<<.LabelMatchers>>})",
        ["a", "b"],
        ["p"],
      ),
      'sum by (namespace, pod) (m{namespace=~"a|b",pod="p"})',
    );
  });
});
