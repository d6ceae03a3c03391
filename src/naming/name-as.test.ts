import { test } from "node:test";
import assert from "node:assert/strict";
import { createMetricNamer, defaultNameAs, expandTemplate } from "./name-as.ts";
import { compileRe2, findSubmatchIndex } from "./re2.ts";
import { NamingError } from "./errors.ts";

function expand(pattern: string, template: string, src: string): string {
  const re = compileRe2(pattern);
  const m = findSubmatchIndex(re, src);
  assert.ok(m, `${pattern} should match ${src}`);
  return expandTemplate(re, template, src, m);
}

// Upstream pkg/custom-provider/metric_name_converter_test.go cases.
test("with no mapping the metric name is unaltered", () => {
  const namer = createMetricNamer({});
  assert.equal(namer.metricNameFor("my_series"), "my_series");
  assert.equal(namer.metricNameFor("your_series"), "your_series");
});

test("one capture group with an explicit as", () => {
  const namer = createMetricNamer({ matches: "my_(.*)", as: "your_$1" });
  assert.equal(namer.metricNameFor("my_requests_per_second"), "your_requests_per_second");
});

test("multiple capture groups with ${n}", () => {
  const namer = createMetricNamer({ matches: "my_([^_]+)_([^_]+)", as: "your_${1}_is_${2}_large" });
  assert.equal(namer.metricNameFor("my_horse_very"), "your_horse_is_very_large");
  assert.equal(namer.metricNameFor("my_dog_not"), "your_dog_is_not_large");
});

test("as is inferred: $1 with one group, $0 with none", () => {
  assert.equal(
    createMetricNamer({ matches: "my_(.+)" }).metricNameFor("my_test_metric"),
    "test_metric",
  );
  assert.equal(createMetricNamer({ matches: "my_metric" }).metricNameFor("my_metric"), "my_metric");
  assert.equal(defaultNameAs(compileRe2("(?P<x>a)")), "$1", "named groups count");
});

test("as cannot be inferred with two or more groups (upstream's error)", () => {
  assert.throws(
    () => createMetricNamer({ matches: "my_([^_]+)_([^_]+)" }, '{__name__=~"my_.*"}'),
    (e: unknown) =>
      e instanceof NamingError &&
      e.message ===
        `must specify an 'as' value for name matcher "my_([^_]+)_([^_]+)" associated with series query "{__name__=~\\"my_.*\\"}"`,
  );
});

test("a series that does not match gives undefined (skipped)", () => {
  assert.equal(createMetricNamer({ matches: "^foo_(.*)$" }).metricNameFor("bar_x"), undefined);
});

test("ExpandString quirks: greedy names, $$, malformed $, unknown groups", () => {
  assert.equal(
    expand("^(.*)_total$", "$1_per_second", "http_total"),
    "",
    '"1_per_second" is one name',
  );
  assert.equal(expand("^(.*)_total$", "$1.rate", "http_total"), "http.rate");
  assert.equal(expand("^(.*)_total$", "${1}_per_second", "http_total"), "http_per_second");
  assert.equal(expand("b(c)", "$0", "abcd"), "bc", "$0 is only the matched text");
  assert.equal(expand("(a)", "$$1", "a"), "$1");
  assert.equal(expand("(a)", "x$", "a"), "x$");
  assert.equal(expand("(a)", "x${1", "a"), "x${1");
  assert.equal(expand("(a)", "${}", "a"), "${}");
  assert.equal(expand("(a)", "$-", "a"), "$-");
  assert.equal(expand("(a)", "[$2]", "a"), "[]");
  assert.equal(expand("(a)", "[$01]", "a"), "[]", "leading zeros make it a name");
  assert.equal(expand("(?P<word>a+)", "$word-${word}", "aa"), "aa-aa");
  assert.equal(expand("(?P<word>a+)", "$words", "aa"), "");
  assert.equal(expand("(a)|(b)", "[$1][$2]", "b"), "[][b]", "unmatched group is empty");
});
