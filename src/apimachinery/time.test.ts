/**
 * @module apimachinery/time.test
 * metav1.Time text, Go `time.Duration.String()` (cases from Go's time_test.go durationTests) and
 * Prometheus `model.Duration` (cases from prometheus/common model/time_test.go).
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  DurationError,
  formatGoDuration,
  formatGoDurationSeconds,
  formatPrometheusDuration,
  formatRfc3339,
  parsePrometheusDuration,
  parseRfc3339,
} from "./time.ts";

describe("RFC 3339", () => {
  it("formats UTC to the second, dropping milliseconds", () => {
    assert.equal(formatRfc3339(Date.UTC(2026, 10, 28, 1, 2, 3, 999)), "2026-11-28T01:02:03Z");
    assert.equal(formatRfc3339(new Date(0)), "1970-01-01T00:00:00Z");
  });
  it("parses what it formats, offsets and fractions too", () => {
    assert.equal(parseRfc3339("2026-11-28T01:02:03Z"), Date.UTC(2026, 10, 28, 1, 2, 3));
    assert.equal(parseRfc3339("2026-11-28T02:02:03.5+01:00"), Date.UTC(2026, 10, 28, 1, 2, 3, 500));
    assert.equal(parseRfc3339("2026-11-27T23:02:03-02:00"), Date.UTC(2026, 10, 28, 1, 2, 3));
  });
  for (const bad of ["2026-11-28", "2026-11-28T01:02:03", "2026-02-30T00:00:00Z", "x"]) {
    it(`rejects ${bad}`, () => {
      assert.throws(() => parseRfc3339(bad), RangeError);
    });
  }
});

describe("Go duration String()", () => {
  const table: [bigint, string][] = [
    [0n, "0s"],
    [1n, "1ns"],
    [1100n, "1.1µs"],
    [2_200_000n, "2.2ms"],
    [3_300_000_000n, "3.3s"],
    [4n * 60n * 1_000_000_000n + 5_000_000_000n, "4m5s"],
    [4n * 60n * 1_000_000_000n + 5_001_000_000n, "4m5.001s"],
    [5n * 3600n * 1_000_000_000n + 6n * 60n * 1_000_000_000n + 7_001_000_000n, "5h6m7.001s"],
    [8n * 60n * 1_000_000_000n + 1n, "8m0.000000001s"],
    [2n ** 63n - 1n, "2562047h47m16.854775807s"],
    [-(2n ** 63n), "-2562047h47m16.854775808s"],
    [-1n, "-1ns"],
    [300n * 1_000_000_000n, "5m0s"],
    [30n * 1_000_000_000n, "30s"],
    [3600n * 1_000_000_000n, "1h0m0s"],
    [90n * 1_000_000_000n, "1m30s"],
    [500_000_000n, "500ms"],
  ];
  for (const [ns, want] of table) {
    it(want, () => {
      assert.equal(formatGoDuration(ns), want);
    });
  }
  it("takes seconds", () => {
    assert.equal(formatGoDurationSeconds(300), "5m0s");
    assert.equal(formatGoDurationSeconds(1.5), "1.5s");
  });
});

describe("Prometheus durations", () => {
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
    it(text, () => {
      assert.equal(parsePrometheusDuration(text), ms);
      assert.equal(formatPrometheusDuration(ms), text);
    });
  }
  it("normalises on output", () => {
    assert.equal(parsePrometheusDuration("0"), 0);
    assert.equal(formatPrometheusDuration(parsePrometheusDuration("90s")), "1m30s");
    assert.equal(formatPrometheusDuration(parsePrometheusDuration("60m")), "1h");
    assert.equal(formatPrometheusDuration(90 * 86_400_000), "90d");
    assert.equal(formatPrometheusDuration(parsePrometheusDuration("3w2d1h")), "23d1h");
    assert.equal(formatPrometheusDuration(parsePrometheusDuration("14d")), "2w");
  });
  const bad: [string, string][] = [
    ["", "empty duration string"],
    ["1", 'not a valid duration string: "1"'],
    ["1.5m", 'unknown unit "." in duration "1.5m"'],
    ["m", 'not a valid duration string: "m"'],
    ["1s1m", 'not a valid duration string: "1s1m"'],
    ["1m1m", 'not a valid duration string: "1m1m"'],
    ["-1s", 'not a valid duration string: "-1s"'],
    ["1x", 'unknown unit "x" in duration "1x"'],
    ["300y", "duration out of range"],
  ];
  for (const [text, message] of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parsePrometheusDuration(text), new DurationError(message));
    });
  }
});
