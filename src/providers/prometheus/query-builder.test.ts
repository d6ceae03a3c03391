/**
 * @module providers/prometheus/query-builder.test
 * Exact PromQL from metricsQuery templates: upstream pkg/naming/metrics_query_test.go cases, every
 * selector form, namespace, one vs many names, escaping, external with/without namespaced.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Requirement } from "../../apimachinery/label-selector.ts";
import { parseRequirements } from "../../apimachinery/label-selector-parser.ts";
import type { GroupResource } from "../../apimachinery/group-resource.ts";
import type { ResourceConverter } from "../../naming/resource-label.ts";
import { buildCustomQuery, buildExternalQuery, QueryBuildError } from "./query-builder.ts";
import { compileQueryTemplate } from "./rules.ts";

/** Upstream's resourceConverterMock: the label of a resource is the resource name itself. */
const identity: ResourceConverter = {
  resourcesForLabels: () => ({ resources: [], namespaced: false }),
  unresolvedOverrides: () => [],
  labelForResource: (gr) => gr.resource,
};

/** The usual converter: namespace and pod labels. */
const podLabels: ResourceConverter = {
  resourcesForLabels: () => ({ resources: [], namespaced: true }),
  unresolvedOverrides: () => [],
  labelForResource: (gr) =>
    ({ namespaces: "namespace", pods: "pod", services: "service" })[gr.resource] ??
    `kube_${gr.resource}`,
};

const RES: GroupResource = { group: "group", resource: "resource" };
const PODS: GroupResource = { group: "", resource: "pods" };

function custom(
  template: string,
  o: {
    series?: string;
    resource?: GroupResource;
    namespace?: string;
    names?: string[];
    selector?: string;
    extraGroupBy?: string[];
    converter?: ResourceConverter;
  } = {},
): string {
  return buildCustomQuery(compileQueryTemplate(template, "t"), o.converter ?? identity, {
    series: o.series ?? "",
    groupResource: o.resource ?? RES,
    namespace: o.namespace ?? "",
    names: o.names ?? ["n"],
    metricSelector: parseRequirements(o.selector ?? ""),
    ...(o.extraGroupBy === undefined ? {} : { extraGroupBy: o.extraGroupBy }),
  });
}

function external(
  template: string,
  o: { series?: string; namespace?: string; selector?: string; namespaced?: boolean } = {},
): string {
  return buildExternalQuery(compileQueryTemplate(template, "t"), identity, {
    series: o.series ?? "",
    namespace: o.namespace ?? "",
    metricSelector: parseRequirements(o.selector ?? ""),
    namespaced: o.namespaced ?? true,
  });
}

describe("buildCustomQuery: upstream TestBuildSelector cases", () => {
  test("series", () => {
    assert.equal(custom("series <<.Series>>", { series: "foo" }), "series foo");
  });
  test("multiple LabelMatchers values", () => {
    assert.equal(custom("<<.LabelMatchers>>", { names: ["bar", "baz"] }), 'resource=~"bar|baz"');
  });
  test("single LabelMatchers value", () => {
    assert.equal(custom("<<.LabelMatchers>>", { names: ["bar"] }), 'resource="bar"');
  });
  test("LabelMatchers with additional metrics filter", () => {
    assert.equal(
      custom("<<.LabelMatchers>>", { names: ["bar"], selector: "metric1=value1" }),
      'metric1="value1",resource="bar"',
    );
  });
  test("single LabelValuesByName value", () => {
    assert.equal(custom('<<index .LabelValuesByName "resource">>', { names: ["bar"] }), "bar");
  });
  test("multiple LabelValuesByName values", () => {
    assert.equal(
      custom('<<index .LabelValuesByName "resource">>', { names: ["bar", "baz"] }),
      "bar|baz",
    );
  });
  test("multiple LabelValuesByName values with namespace", () => {
    assert.equal(
      custom('<<index .LabelValuesByName "namespaces">> <<index .LabelValuesByName "resource">>', {
        names: ["bar", "baz"],
        namespace: "default",
      }),
      "default bar|baz",
    );
  });
  test("single GroupBy value", () => {
    assert.equal(custom("<<.GroupBy>>"), "resource");
  });
  test("multiple GroupBy values", () => {
    assert.equal(
      custom("<<.GroupBy>>", { extraGroupBy: ["extra", "groups"] }),
      "resource,extra,groups",
    );
  });
  test("single GroupBySlice value", () => {
    assert.equal(custom("<<.GroupBySlice>>"), "[resource]");
  });
  test("multiple GroupBySlice values", () => {
    assert.equal(
      custom("<<.GroupBySlice>>", { extraGroupBy: ["extra", "groups"] }),
      "[resource extra groups]",
    );
  });
});

describe("buildCustomQuery: the whole query", () => {
  const q = "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)";
  const pods = (names: string[], selector = "", namespace = "ns") =>
    custom(q, {
      series: "http_requests",
      resource: PODS,
      namespace,
      names,
      selector,
      converter: podLabels,
    });

  test("one name, namespaced", () => {
    assert.equal(pods(["web-1"]), 'sum(http_requests{namespace="ns",pod="web-1"}) by (pod)');
  });
  test("many names keep the order given (the Kubernetes list order)", () => {
    assert.equal(
      pods(["web-2", "web-1", "api"]),
      'sum(http_requests{namespace="ns",pod=~"web-2|web-1|api"}) by (pod)',
    );
  });
  test("root-scoped: no namespace matcher", () => {
    assert.equal(
      custom(q, {
        series: "load",
        resource: { group: "", resource: "namespaces" },
        names: ["team-a"],
        converter: podLabels,
      }),
      'sum(load{namespace="team-a"}) by (namespace)',
    );
  });
  test("several names are regex-escaped in the matcher, raw in LabelValuesByName", () => {
    assert.equal(
      pods(["a.b", "c+d"]),
      'sum(http_requests{namespace="ns",pod=~"a\\\\.b|c\\\\+d"}) by (pod)',
    );
    assert.equal(
      custom('pod=~"<<index .LabelValuesByName "pod">>"', {
        resource: PODS,
        names: ["a.b", "c+d"],
        converter: podLabels,
      }),
      'pod=~"a.b|c+d"',
    );
    // One name is an equality matcher: nothing to escape.
    assert.equal(pods(["a.b"]), 'sum(http_requests{namespace="ns",pod="a.b"}) by (pod)');
  });
  test("values are Go-quoted: a quote cannot end the string", () => {
    assert.equal(
      custom("<<.LabelMatchers>>", {
        resource: PODS,
        names: ['x"}or vector(1)#'],
        converter: podLabels,
      }),
      'pod="x\\"}or vector(1)#"',
    );
  });

  const selectorCases: [string, string][] = [
    ["k=v", 'k="v"'],
    ["k==v", 'k="v"'],
    ["k!=v", 'k!="v"'],
    ["k in (a)", 'k=~"a"'],
    ["k in (b,a)", 'k=~"a|b"'],
    ["k notin (a,b)", 'k!~"a|b"'],
    ["k", 'k!=""'],
    ["!k", 'k=""'],
    ["z=1,a=2", 'a="2",z="1"'],
  ];
  for (const [selector, matchers] of selectorCases) {
    test(`metricLabelSelector ${JSON.stringify(selector)} → ${matchers}, before namespace and name`, () => {
      assert.equal(
        pods(["web-1"], selector),
        `sum(http_requests{${matchers},namespace="ns",pod="web-1"}) by (pod)`,
      );
    });
  }
  test("gt and lt are refused", () => {
    assert.throws(() => pods(["web-1"], "k>1"), /operator not supported by prometheus/);
    assert.throws(() => pods(["web-1"], "k<1"), /operator not supported by prometheus/);
  });
  test("LabelValuesByName for a selector: sorted values joined with |", () => {
    assert.equal(
      custom("<<.LabelValuesByName>>", {
        resource: PODS,
        names: ["p"],
        selector: "k in (b,a),x=y",
        converter: podLabels,
      }),
      "map[k:a|b pod:p x:y]",
    );
  });
  test("an empty render is an error", () => {
    assert.throws(
      () => custom("<<if false>>x<<end>>"),
      (e: unknown) =>
        e instanceof QueryBuildError &&
        e.message === "empty query produced by metrics query template",
    );
  });
  test("no names is an error, not a query for every object", () => {
    assert.throws(() => custom(q, { names: [] }), QueryBuildError);
  });
  test("a resource without a label form fails", () => {
    const none: ResourceConverter = {
      resourcesForLabels: () => ({ resources: [], namespaced: false }),
      unresolvedOverrides: () => [],
      labelForResource: () => {
        throw new Error("no generic resource label form specified for this metric");
      },
    };
    assert.throws(
      () => custom(q, { converter: none }),
      /no generic resource label form specified for this metric/,
    );
  });
});

describe("buildExternalQuery: upstream TestBuildExternalSelector cases", () => {
  test("series", () => {
    assert.equal(external("series <<.Series>>", { series: "foo" }), "series foo");
  });
  test("GroupBy is always empty and GroupBySlice always []", () => {
    assert.equal(external("<<.GroupBy>>|<<.GroupBySlice>>", { namespace: "default" }), "|[]");
  });
  test("namespace value by name", () => {
    assert.equal(
      external('<<index .LabelValuesByName "namespaces">>', { namespace: "default" }),
      "default",
    );
  });
  test("single LabelMatchers value", () => {
    assert.equal(external("<<.LabelMatchers>>", { selector: "foo=bar" }), 'foo="bar"');
  });
  test("single LabelMatchers value with namespace: the namespace comes last", () => {
    assert.equal(
      external("<<.LabelMatchers>>", { selector: "foo=bar", namespace: "default" }),
      'foo="bar",namespaces="default"',
    );
  });
  test("multiple LabelMatchers value", () => {
    assert.equal(
      external("<<.LabelMatchers>>", { selector: "foo=bar,qux in (bar,baz)" }),
      'foo="bar",qux=~"bar|baz"',
    );
  });
  test("single LabelValuesByName value", () => {
    assert.equal(external("<<.LabelValuesByName>>", { selector: "foo=bar" }), "map[foo:bar]");
  });
  test("single LabelValuesByName with multiple selectors", () => {
    assert.equal(
      external("<<.LabelValuesByName>>", { selector: "foo in (bar,baz)" }),
      "map[foo:bar|baz]",
    );
  });
});

describe("buildExternalQuery: namespaced", () => {
  const q = "sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)";
  test("namespaced (default) appends the namespace matcher", () => {
    assert.equal(
      external(q, { series: "depth", namespace: "ns", selector: "queue=a" }),
      'sum(depth{queue="a",namespaces="ns"}) by (queue)',
    );
  });
  test("namespaced: false leaves it out", () => {
    assert.equal(
      external(q, { series: "depth", namespace: "ns", selector: "queue=a", namespaced: false }),
      'sum(depth{queue="a"}) by (queue)',
    );
    assert.equal(
      external(q, { series: "depth", namespace: "ns", namespaced: false }),
      "sum(depth{}) by (queue)",
    );
  });
  test("an empty render is an error", () => {
    assert.throws(() => external(""), /empty query produced by metrics query template/);
  });
  test("a namespaced rule without a namespace label fails (upstream #282)", () => {
    const none: ResourceConverter = {
      resourcesForLabels: () => ({ resources: [], namespaced: false }),
      unresolvedOverrides: () => [],
      labelForResource: () => {
        throw new Error("no generic resource label form specified for this metric");
      },
    };
    const reqs: Requirement[] = [];
    assert.throws(() =>
      buildExternalQuery(compileQueryTemplate(q, "t"), none, {
        series: "depth",
        namespace: "ns",
        metricSelector: reqs,
        namespaced: true,
      }),
    );
    assert.equal(
      buildExternalQuery(compileQueryTemplate(q, "t"), none, {
        series: "depth",
        namespace: "ns",
        metricSelector: reqs,
        namespaced: false,
      }),
      "sum(depth{}) by (queue)",
    );
  });
});
