/**
 * @module template/adapter-data.test
 * The templates prometheus-adapter users write, rendered with the adapter's delimiters and data
 * types. The first table's outputs come from Go 1.26 on the same templates and data; the second
 * ports pkg/naming/metrics_query_test.go (TestBuildSelector, TestBuildExternalSelector).
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { queryTemplateData, resourceTemplateData } from "./adapter-data.ts";
import { TemplateError } from "./errors.ts";
import { ADAPTER_DELIMITERS, parseTemplate } from "./template.ts";

const DATA: Readonly<Record<string, unknown>> = {
  q: queryTemplateData({
    series: "http_requests_total",
    labelMatchers: 'namespace="default",pod=~"web-1|web-2"',
    labelValuesByName: { namespace: "default", pod: "web-1|web-2" },
    groupBy: "pod,container",
    groupBySlice: ["pod", "container"],
  }),
  // External metrics: GroupBy is always "" and GroupBySlice empty.
  ext: queryTemplateData({
    series: "queue_depth",
    labelMatchers: 'queue="jobs",namespace="default"',
    labelValuesByName: { queue: "jobs", namespace: "default" },
    groupBy: "",
    groupBySlice: [],
  }),
  gr: resourceTemplateData("apps", "deployment"),
};

type Want = { out: string } | { err: string; at: string };

/** [name, template, data key, expected] */
const CASES: readonly (readonly [string, string, string, Want])[] = [
  [
    "adapter series",
    "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
    "q",
    { out: 'sum(http_requests_total{namespace="default",pod=~"web-1|web-2"}) by (pod,container)' },
  ],
  [
    "adapter rate",
    'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[1m])) by (<<.GroupBy>>)',
    "q",
    {
      out: 'sum(rate(http_requests_total{namespace="default",pod=~"web-1|web-2",container!="POD"}[1m])) by (pod,container)',
    },
  ],
  [
    "adapter index",
    '<<index .LabelValuesByName "namespace">> <<index .LabelValuesByName "pod">> [<<index .LabelValuesByName "missing">>]',
    "q",
    { out: "default web-1|web-2 []" },
  ],
  [
    "adapter map print",
    "<<.LabelValuesByName>> <<.LabelValuesByName.missing>>",
    "q",
    { out: "map[namespace:default pod:web-1|web-2] <no value>" },
  ],
  ["adapter slice print", "<<.GroupBySlice>>", "q", { out: "[pod container]" }],
  [
    "adapter range sep",
    "<<range $i, $v := .GroupBySlice>><<if $i>>,<<end>><<$v>><<end>>",
    "q",
    { out: "pod,container" },
  ],
  [
    "adapter range trim",
    "by (\n  <<- range $i, $v := .GroupBySlice >>\n    <<- if $i >>, <<end>><< $v >>\n  <<- end >>\n)",
    "q",
    { out: "by (pod, container\n)" },
  ],
  [
    "adapter join",
    '<<join .GroupBySlice ",">>',
    "q",
    { err: 'function "join" not defined', at: "1:3" },
  ],
  [
    "adapter if groupby",
    "sum(<<.Series>>{<<.LabelMatchers>>})<<if .GroupBy>> by (<<.GroupBy>>)<<end>>",
    "ext",
    { out: 'sum(queue_depth{queue="jobs",namespace="default"})' },
  ],
  [
    "adapter external",
    "sum(<<.Series>>{<<.LabelMatchers>>}) by (name) <<.GroupBySlice>> [<<.GroupBy>>]",
    "ext",
    { out: 'sum(queue_depth{queue="jobs",namespace="default"}) by (name) [] []' },
  ],
  [
    "adapter printf",
    '<< .Series | printf "%s_total" >> << printf "%q" .GroupBySlice >>',
    "q",
    { out: 'http_requests_total_total ["pod" "container"]' },
  ],
  ["adapter comment", "<</* the series */>><<.Series>>", "q", { out: "http_requests_total" }],
  [
    "adapter with",
    "<<with .LabelMatchers>>{<<.>>}<<else>>{}<<end>>",
    "q",
    { out: '{namespace="default",pod=~"web-1|web-2"}' },
  ],
  ["adapter len", "<<len .GroupBySlice>> <<len .LabelValuesByName>>", "q", { out: "2 2" }],
  ["adapter eq", '<<if eq .GroupBy "pod">>pods<<else>>other<<end>>', "q", { out: "other" }],
  ["adapter resource", "kube_<<.Group>>_<<.Resource>>", "gr", { out: "kube_apps_deployment" }],
  ["adapter resource prefix", "<<.Resource>>", "gr", { out: "deployment" }],
  ["adapter braces kept", "{{.Series}}<<.Series>>", "q", { out: "{{.Series}}http_requests_total" }],
  [
    "adapter multiline error",
    "sum(\n  <<.Series>>\n) by (<<.GroupBy>",
    "q",
    { err: "bad character U+003E '>'", at: "3:9" },
  ],
  ["adapter delims trim", "a <<- .Series ->> b", "q", { out: "ahttp_requests_totalb" }],
  ["adapter struct print", "<<.>>", "gr", { out: "{apps deployment}" }],
  [
    "adapter struct print q",
    '<<printf "%+v" .>>',
    "gr",
    { out: "{Group:apps Resource:deployment}" },
  ],
];

function render(src: string, data: unknown): string {
  return parseTemplate(src, { ...ADAPTER_DELIMITERS, name: "t" }).execute(data);
}

describe("adapter templates: Go parity", () => {
  for (const [name, src, key, want] of CASES) {
    test(name, () => {
      if ("out" in want) {
        assert.equal(render(src, DATA[key]), want.out);
        return;
      }
      assert.throws(
        () => render(src, DATA[key]),
        (err: unknown) => {
          assert.ok(err instanceof TemplateError);
          assert.equal(err.detail, want.err);
          assert.equal(`${err.line}:${err.col}`, want.at);
          return true;
        },
      );
    });
  }

  test("a field the adapter does not pass fails at execution, as in Go", () => {
    assert.throws(() => render("<<.LabelMatchersByName>>", DATA["q"]), {
      detail: "can't evaluate field LabelMatchersByName in type naming.queryTemplateArgs",
    });
  });
});

describe("pkg/naming/metrics_query_test.go", () => {
  const query = (o: {
    series?: string;
    matchers?: string;
    byName?: Record<string, string>;
    groupBy?: string;
    groupBySlice?: string[];
  }) =>
    queryTemplateData({
      series: o.series ?? "",
      labelMatchers: o.matchers ?? "",
      labelValuesByName: o.byName ?? {},
      groupBy: o.groupBy ?? "",
      groupBySlice: o.groupBySlice ?? [],
    });

  const table: readonly (readonly [string, string, ReturnType<typeof query>, string])[] = [
    ["series", "series <<.Series>>", query({ series: "foo" }), "series foo"],
    [
      "multiple LabelMatchers values",
      "<<.LabelMatchers>>",
      query({ matchers: 'resource=~"bar|baz"' }),
      'resource=~"bar|baz"',
    ],
    [
      "LabelMatchers with additional metrics filter",
      "<<.LabelMatchers>>",
      query({ matchers: 'metric1="value1",resource="bar"' }),
      'metric1="value1",resource="bar"',
    ],
    [
      "single LabelValuesByName value",
      '<<index .LabelValuesByName "resource">>',
      query({ byName: { resource: "bar" } }),
      "bar",
    ],
    [
      "multiple LabelValuesByName values with namespace",
      '<<index .LabelValuesByName "namespaces">> <<index .LabelValuesByName "resource">>',
      query({ byName: { namespaces: "default", resource: "bar|baz" } }),
      "default bar|baz",
    ],
    ["single GroupBy value", "<<.GroupBy>>", query({ groupBy: "resource" }), "resource"],
    [
      "multiple GroupBy values",
      "<<.GroupBy>>",
      query({ groupBy: "resource,extra,groups" }),
      "resource,extra,groups",
    ],
    [
      "single GroupBySlice value",
      "<<.GroupBySlice>>",
      query({ groupBySlice: ["resource"] }),
      "[resource]",
    ],
    [
      "multiple GroupBySlice values",
      "<<.GroupBySlice>>",
      query({ groupBySlice: ["resource", "extra", "groups"] }),
      "[resource extra groups]",
    ],
    [
      "external: multiple GroupBySlice values with namespace",
      '<<index .LabelValuesByName "namespaces">> <<.GroupBySlice>>',
      query({ byName: { namespaces: "default" }, groupBySlice: ["foo", "bar"] }),
      "default [foo bar]",
    ],
    [
      "external: single LabelValuesByName value",
      "<<.LabelValuesByName>>",
      query({ byName: { foo: "bar" } }),
      "map[foo:bar]",
    ],
    [
      "external: LabelValuesByName with multiple selectors",
      "<<.LabelValuesByName>>",
      query({ byName: { foo: "bar|baz" } }),
      "map[foo:bar|baz]",
    ],
    ["external: empty GroupBySlice", "<<.GroupBySlice>>", query({}), "[]"],
  ];
  for (const [name, src, data, want] of table) {
    test(name, () => {
      assert.equal(render(src, data), want);
    });
  }

  test("an empty render is left to the caller (Go: empty query produced by ...)", () => {
    assert.equal(render("<<if .GroupBy>>x<<end>>", query({})), "");
  });
});
