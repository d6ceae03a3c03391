import assert from "node:assert/strict";
import { test } from "node:test";
import { TextFormatError, parseTextFormat } from "./text-format.ts";

test("parses samples, labels with escapes, special values and timestamps; skips comments", () => {
  const text = [
    "# HELP node_cpu_usage_seconds_total Cumulative cpu time",
    "# TYPE node_cpu_usage_seconds_total counter",
    "node_cpu_usage_seconds_total 357.35 1700000000123",
    "",
    'container_cpu_usage_seconds_total{container="c",namespace="ns",pod="p"} 0.5 1700000000456',
    'weird{a="x\\"y",b="back\\\\slash",c="new\\nline",} NaN',
    '  spaced { a = "1" , b="2" }   +Inf  ',
    "neg -Inf -5",
    "sci 1.5e3",
    "scrape_error 0",
  ].join("\n");
  assert.deepEqual(parseTextFormat(text), [
    { name: "node_cpu_usage_seconds_total", labels: {}, value: 357.35, timestampMs: 1700000000123 },
    {
      name: "container_cpu_usage_seconds_total",
      labels: { container: "c", namespace: "ns", pod: "p" },
      value: 0.5,
      timestampMs: 1700000000456,
    },
    { name: "weird", labels: { a: 'x"y', b: "back\\slash", c: "new\nline" }, value: NaN },
    { name: "spaced", labels: { a: "1", b: "2" }, value: Infinity },
    { name: "neg", labels: {}, value: -Infinity, timestampMs: -5 },
    { name: "sci", labels: {}, value: 1500 },
    { name: "scrape_error", labels: {}, value: 0 },
  ]);
});

test("a malformed line is an error naming the line", () => {
  for (const [text, why] of [
    ["ok 1\nbad{a=1} 2", /line 2: expected " to start a label value/],
    ['x{a="1"', /line 1: unterminated|expected , or }/],
    ["x 1 2 3", /line 1: expected a value and an optional timestamp/],
    ["x abc", /line 1: invalid value "abc"/],
    ["x 1 1.5", /line 1: invalid timestamp "1.5"/],
    ['x{a="1",a="2"} 1', /duplicate label a/],
    ['x{a="\\t"} 1', /invalid escape/],
    ["1x 1", /expected a metric name/],
  ] as const) {
    assert.throws(
      () => parseTextFormat(text),
      (e: unknown) => {
        assert.ok(e instanceof TextFormatError);
        assert.match(e.message, why);
        return true;
      },
    );
  }
});
