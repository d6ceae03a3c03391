import assert from "node:assert/strict";
import { test } from "node:test";
import { TextFormatError, parseTextFormat, scanTextFormat } from "./text-format.ts";

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

test("scanTextFormat builds only the wanted metrics, still checks the others, and takes CRLF", () => {
  const seen: string[] = [];
  scanTextFormat(
    'keep{a="1"} 1 5\r\nskip{b="x\\"y"} 2\r\n# comment\r\nkeep 3\r\n',
    (name) => name === "keep",
    (s) =>
      seen.push(`${s.name}${JSON.stringify(s.labels)}=${String(s.value)}@${String(s.timestampMs)}`),
  );
  assert.deepEqual(seen, ['keep{"a":"1"}=1@5', "keep{}=3@undefined"]);
  for (const bad of ['skip{b="1} 2', "skip 1 2 3", "skip abc", 'skip{b="\\t"} 1']) {
    assert.throws(
      () => {
        scanTextFormat(
          `keep 1\n${bad}`,
          (name) => name === "keep",
          () => undefined,
        );
      },
      (e: unknown) => e instanceof TextFormatError && /^line 2: /.test(e.message),
      bad,
    );
  }
});
