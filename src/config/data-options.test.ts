import assert from "node:assert/strict";
import { test } from "node:test";
import { NO_DATA_OPTIONS, readDataOptions } from "./data-options.ts";
import { parseConfig } from "./load.ts";
import { ConfigError } from "./errors.ts";

test("absent block: the options of a plain prometheus-adapter rule", () => {
  assert.deepEqual(readDataOptions(undefined), { options: NO_DATA_OPTIONS, problems: [] });
});

test("values read from YAML text and numbers", () => {
  const { options, problems } = readDataOptions({
    valueWhenMissing: "0",
    maxSampleAge: "90s",
    lastGoodValueFor: "2m",
  });
  assert.deepEqual(problems, []);
  assert.deepEqual(options, {
    valueWhenMissing: 0,
    maxSampleAgeMs: 90_000,
    lastGoodValueForMs: 120_000,
  });
  assert.equal(readDataOptions({ valueWhenMissing: -1.5 }).options.valueWhenMissing, -1.5);
  assert.equal(readDataOptions({ lastGoodValueFor: "0" }).options.lastGoodValueForMs, 0);
});

test("bad values are errors; a maxSampleAge past the lookback is a warning", () => {
  const { problems } = readDataOptions({
    valueWhenMissing: "NaN",
    maxSampleAge: "0",
    lastGoodValueFor: "2 minutes",
  });
  assert.deepEqual(
    problems.map((p) => [p.key, p.severity]),
    [
      ["valueWhenMissing", undefined],
      ["maxSampleAge", undefined],
      ["lastGoodValueFor", undefined],
    ],
  );
  const long = readDataOptions({ maxSampleAge: "10m" });
  assert.equal(long.problems[0]?.severity, "warning");
  assert.equal(long.options.maxSampleAgeMs, 600_000);
});

const RULE = `rules:
- seriesQuery: '{__name__="x",namespace!="",pod!=""}'
  resources: {template: <<.Resource>>}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
`;

test("the loader points at each bad value with file:line:col", () => {
  const text = `${RULE}  k8sCustomMetrics:
    valueWhenMissing: zero
    maxSampleAge: 5 min
    lastGoodValueFor: 1m
`;
  assert.throws(
    () => parseConfig(text, "c.yaml"),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(
        e.message,
        /c\.yaml:6:23: rules\[0\]\.k8sCustomMetrics\.valueWhenMissing is "zero", not a decimal number/,
      );
      assert.match(
        e.message,
        /c\.yaml:7:19: rules\[0\]\.k8sCustomMetrics\.maxSampleAge "5 min" is not a Prometheus duration/,
      );
      assert.doesNotMatch(e.message, /lastGoodValueFor/);
      return true;
    },
  );
});

test("unknown keys in the block are errors with a suggestion", () => {
  assert.throws(
    () => parseConfig(`${RULE}  k8sCustomMetrics: {valueWhenMising: 0}\n`, "c.yaml"),
    /c\.yaml:5:22: unknown key "valueWhenMising" in rules\[0\]\.k8sCustomMetrics; did you mean "valueWhenMissing"\?/,
  );
});

test("a long maxSampleAge warns, and fails under --strict-config", () => {
  const text = `${RULE}  k8sCustomMetrics: {maxSampleAge: 10m, valueWhenMissing: 0}\n`;
  const warnings: string[] = [];
  const cfg = parseConfig(text, "c.yaml", {
    onWarning: (w) => warnings.push(`${String(w.line)}:${String(w.col)} ${w.message}`),
  });
  assert.deepEqual(cfg.rules?.[0]?.k8sCustomMetrics, {
    maxSampleAge: "10m",
    valueWhenMissing: "0",
  });
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0] ?? "",
    /^5:36 rules\[0\]\.k8sCustomMetrics\.maxSampleAge is longer than/,
  );
  assert.throws(() => parseConfig(text, "c.yaml", { strict: true }), ConfigError);
});
