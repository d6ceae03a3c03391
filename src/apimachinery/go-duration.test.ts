import { test } from "node:test";
import assert from "node:assert/strict";
import { parseGoDuration } from "./go-duration.ts";

test("parses Go durations as milliseconds", () => {
  const cases: [string, number][] = [
    ["0", 0],
    ["10m", 600_000],
    ["1m30s", 90_000],
    ["1.5h", 5_400_000],
    ["300ms", 300],
    ["-2s", -2000],
    ["1h2m3s4ms", 3_723_004],
    ["500us", 0.5],
  ];
  for (const [text, ms] of cases) assert.equal(parseGoDuration(text), ms, text);
});

test("rejects what Go rejects", () => {
  for (const text of ["", "10", "1d", "m", ".s", "1m x"]) {
    assert.throws(() => parseGoDuration(text), /time: invalid duration/, text);
  }
});
