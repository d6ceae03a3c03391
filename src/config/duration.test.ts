import { test } from "node:test";
import assert from "node:assert/strict";
import { formatPromDuration, parsePromDuration } from "./duration.ts";

test("parses Prometheus durations, including compound ones and 0", () => {
  assert.equal(parsePromDuration("5m"), 300_000);
  assert.equal(parsePromDuration("1h30m"), 5_400_000);
  assert.equal(parsePromDuration("1d2h3m4s5ms"), 93_784_005);
  assert.equal(parsePromDuration("0"), 0);
  assert.throws(() => parsePromDuration(""), /empty duration string/);
  assert.throws(() => parsePromDuration("5x"), /not a valid duration string/);
  assert.throws(() => parsePromDuration("1.5m"), /not a valid duration string/);
  assert.throws(() => parsePromDuration("30s1m"), /not a valid duration string/);
});

test("prints like model.Duration.String()", () => {
  assert.equal(formatPromDuration(0), "0s");
  assert.equal(formatPromDuration(300_000), "5m");
  assert.equal(formatPromDuration(90_000), "1m30s");
  assert.equal(formatPromDuration(1_500), "1s500ms");
  assert.equal(formatPromDuration(7 * 86_400_000), "1w");
  assert.equal(formatPromDuration(90 * 86_400_000), "90d");
  assert.equal(formatPromDuration(365 * 86_400_000), "1y");
});
