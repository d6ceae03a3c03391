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

// Cases from prometheus/common model/time_test.go.
test("round-trips model.Duration text", () => {
  const roundTrip: [string, number][] = [
    ["0s", 0],
    ["324ms", 324],
    ["3s", 3000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["4d", 4 * 86_400_000],
    ["4d1h", 4 * 86_400_000 + 3_600_000],
    ["2w", 14 * 86_400_000],
    ["3w", 21 * 86_400_000],
    ["23d1h", 23 * 86_400_000 + 3_600_000],
    ["10y", 10 * 365 * 86_400_000],
    ["1m30s", 90_000],
    ["15s", 15_000],
    ["1h2m3s4ms", 3_723_004],
  ];
  for (const [text, ms] of roundTrip) {
    assert.equal(parsePromDuration(text), ms, text);
    assert.equal(formatPromDuration(ms), text, text);
  }
  assert.equal(formatPromDuration(parsePromDuration("60m")), "1h");
  assert.equal(formatPromDuration(parsePromDuration("3w2d1h")), "23d1h");
  assert.equal(formatPromDuration(parsePromDuration("14d")), "2w");
  for (const bad of ["1", "m", "1s1m", "1m1m", "-1s"]) {
    assert.throws(() => parsePromDuration(bad), /not a valid duration string/, bad);
  }
});

test("rejects what overflows a Go time.Duration (about 292 years), like prometheus/common", () => {
  // 292y is 9,208,512,000 s: still below 2^63-1 ns (9,223,372,036.85 s).
  assert.equal(parsePromDuration("292y"), 292 * 365 * 24 * 3600 * 1000);
  assert.equal(parsePromDuration("292y24w") > 0, true);
  assert.throws(() => parsePromDuration("293y"), /duration out of range: "293y"/);
  assert.throws(() => parsePromDuration("292y25w"), /duration out of range/);
  assert.throws(() => parsePromDuration("99999999999999999999ms"), /duration out of range/);
});
