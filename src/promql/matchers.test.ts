/**
 * @module promql/matchers.test
 * The prometheus-adapter selector→PromQL table (reference §1.3) and the LabelMatchers cases of
 * prometheus-adapter `pkg/naming/metrics_query_test.go`, restated; plus our escaping differences.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { parseRequirements } from "../apimachinery/label-selector-parser.ts";
import {
  PromqlMatcherError,
  joinMatchers,
  labelMatcher,
  metricSelector,
  renderMatcher,
  requirementsToMatchers,
  resourceNamesMatcher,
} from "./matchers.ts";

function build(selector: string, escapeRegex?: boolean): string {
  const options = escapeRegex === undefined ? {} : { escapeRegex };
  return joinMatchers(requirementsToMatchers(parseRequirements(selector), options));
}

describe("selector → matchers table", () => {
  const table: [string, string][] = [
    ["k=v", 'k="v"'],
    ["k==v", 'k="v"'],
    ["k!=v", 'k!="v"'],
    ["k in (a)", 'k=~"a"'],
    ["k in (a,b)", 'k=~"a|b"'],
    ["k in (b,a,b)", 'k=~"a|b"'],
    ["k notin (a,b)", 'k!~"a|b"'],
    ["k notin (a)", 'k!~"a"'],
    ["k", 'k!=""'],
    ["!k", 'k=""'],
    ["k=", 'k=""'],
    ["k in ()", 'k=~""'],
    ["k in (a,)", 'k=~"|a"'],
    ["b=2,a=1", 'a="1",b="2"'],
    ["foo=bar,qux in (bar,baz)", 'foo="bar",qux=~"bar|baz"'],
    ["", ""],
  ];
  for (const [selector, want] of table) {
    it(`${JSON.stringify(selector)} → ${want}`, () => {
      assert.equal(build(selector), want);
      assert.equal(build(selector, false), want);
    });
  }
  for (const selector of ["k>1", "k<1", "a=b,k>1"]) {
    it(`${selector} is refused`, () => {
      assert.throws(
        () => build(selector),
        new PromqlMatcherError("operator not supported by prometheus"),
      );
    });
  }
  it("refuses keys that are not Prometheus label names", () => {
    assert.throws(() => build("app.kubernetes.io/name=web"), PromqlMatcherError);
    assert.throws(() => build("my-label=x"), PromqlMatcherError);
    assert.throws(() => build("1abc=x"), PromqlMatcherError);
  });
});

describe("regex escaping differs from upstream on purpose", () => {
  it("escapes in/notin values by default", () => {
    assert.equal(build("k in (a.b,c)"), 'k=~"a\\\\.b|c"');
    assert.equal(build("k notin (a.b)"), 'k!~"a\\\\.b"');
  });
  it("reproduces upstream with escapeRegex: false", () => {
    assert.equal(build("k in (a.b,c)", false), 'k=~"a.b|c"');
  });
  it("leaves exact matches alone (they are not regexes)", () => {
    assert.equal(build("k=a.b"), 'k="a.b"');
  });
});

describe("resource-name matcher (metrics_query_test.go LabelMatchers cases)", () => {
  it("one name is an equality", () => {
    assert.equal(renderMatcher(resourceNamesMatcher("resource", ["bar"])), 'resource="bar"');
  });
  it("several names are an alternation in list order", () => {
    assert.equal(
      renderMatcher(resourceNamesMatcher("resource", ["baz", "bar"])),
      'resource=~"baz|bar"',
    );
  });
  it("selector matchers, then namespace, then resource", () => {
    const matchers = [
      ...requirementsToMatchers(parseRequirements("metric1=value1")),
      labelMatcher("namespaces", "=", "default"),
      resourceNamesMatcher("resource", ["bar"]),
    ];
    assert.equal(joinMatchers(matchers), 'metric1="value1",namespaces="default",resource="bar"');
  });
  it("external: selector then namespace appended last", () => {
    const matchers = [
      ...requirementsToMatchers(parseRequirements("foo=bar")),
      labelMatcher("namespaces", "=", "default"),
    ];
    assert.equal(joinMatchers(matchers), 'foo="bar",namespaces="default"');
  });
  it("escapes names that would widen the match, unless asked not to", () => {
    const names = ["a|b", "web.1"];
    assert.equal(renderMatcher(resourceNamesMatcher("pod", names)), 'pod=~"a\\\\|b|web\\\\.1"');
    assert.equal(
      renderMatcher(resourceNamesMatcher("pod", names, { escapeRegex: false })),
      'pod=~"a|b|web.1"',
    );
  });
  it("quotes hostile single names", () => {
    assert.equal(
      renderMatcher(resourceNamesMatcher("pod", ['x"} or vector(1) #'])),
      'pod="x\\"} or vector(1) #"',
    );
  });
});

describe("metricSelector", () => {
  it("renders name{matchers}", () => {
    assert.equal(
      metricSelector("http_requests_total", [
        labelMatcher("namespace", "=", "default"),
        labelMatcher("pod", "=~", "a|b"),
      ]),
      'http_requests_total{namespace="default",pod=~"a|b"}',
    );
  });
  it("renders a bare name without matchers", () => {
    assert.equal(metricSelector("job:up:sum", []), "job:up:sum");
  });
  for (const bad of ["", "1up", "up{}", "up or vector(1)", "a-b", "up\n"]) {
    it(`refuses metric name ${JSON.stringify(bad)}`, () => {
      assert.throws(() => metricSelector(bad, []), PromqlMatcherError);
    });
  }
  for (const bad of ["", "a b", "a:b", "ä", "a}"]) {
    it(`refuses label name ${JSON.stringify(bad)}`, () => {
      assert.throws(() => labelMatcher(bad, "=", "x"), PromqlMatcherError);
      assert.throws(() => renderMatcher({ name: bad, op: "=", value: "x" }), PromqlMatcherError);
    });
  }
});
