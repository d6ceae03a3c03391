/**
 * @module apimachinery/time.test
 * metav1.Time text and Go `time.Duration.String()` (cases from Go's time_test.go durationTests).
 * Prometheus durations live in config/duration.ts.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { formatGoDuration, formatGoDurationSeconds, formatRfc3339, parseRfc3339 } from "./time.ts";

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
