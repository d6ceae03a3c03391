import { test } from "node:test";
import assert from "node:assert/strict";
import { humanMilli, humanNumber, isBytes } from "./units.ts";

test("three significant digits with SI or binary suffixes", () => {
  assert.equal(humanNumber(10_901_504, true), "10.4Mi");
  assert.equal(humanNumber(4.951), "4.95");
  assert.equal(humanNumber(5), "5");
  assert.equal(humanNumber(0), "0");
  assert.equal(humanNumber(0.25), "250m");
  assert.equal(humanNumber(1234), "1.23k");
  assert.equal(humanNumber(999_700), "1M");
  assert.equal(humanNumber(1023, true), "1020");
  assert.equal(humanNumber(1536, true), "1.5Ki");
  assert.equal(humanNumber(-2500), "-2.5k");
  assert.equal(humanMilli(4950), "4.95");
  assert.equal(humanMilli(1), "1m");
});

test("byte metrics are told by name", () => {
  assert.ok(isBytes("memory_usage_bytes"));
  assert.ok(isBytes("memory"));
  assert.ok(!isBytes("http_requests_per_second"));
});
