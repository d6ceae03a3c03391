import { test } from "node:test";
import assert from "node:assert/strict";
import { rateWindows } from "./rate-windows.ts";

test("windows of two-sample functions, through offset and parentheses", () => {
  assert.deepEqual(
    rateWindows("sum(rate(<<.Series>>{<<.LabelMatchers>>}[30s])) by (<<.GroupBy>>)"),
    [{ fn: "rate", text: "30s", ms: 30_000 }],
  );
  assert.deepEqual(
    rateWindows(
      "sum(increase(<<.Series>>{<<.LabelMatchers>>}[1m] offset 5m)) / sum(irate((<<.Series>>{<<.LabelMatchers>>}[2m])))",
    ).map((w) => [w.fn, w.ms]),
    [
      ["increase", 60_000],
      ["irate", 120_000],
    ],
  );
});

test("other range functions, subqueries, literals and broken queries give nothing", () => {
  assert.deepEqual(rateWindows("avg_over_time(<<.Series>>{<<.LabelMatchers>>}[30s])"), []);
  assert.deepEqual(rateWindows("rate(<<.Series>>{<<.LabelMatchers>>}[5m:30s])"), []);
  assert.deepEqual(rateWindows('sum(<<.Series>>{<<.LabelMatchers>>,path="[5s]"})'), []);
  assert.deepEqual(rateWindows("sum(rate(<<.Series>>[1m]"), []);
  assert.deepEqual(rateWindows("<<.Nope"), []);
  assert.deepEqual(rateWindows(""), []);
});
