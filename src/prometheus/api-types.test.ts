/**
 * @module prometheus/api-types.test
 * Decoding of API payloads, value spellings included, and rejection of malformed ones.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeQueryData, decodeSeries, decodeStringList, parseSampleValue } from "./api-types.ts";

test("parseSampleValue reads Prometheus value spellings", () => {
  assert.ok(Number.isNaN(parseSampleValue("NaN")));
  assert.equal(parseSampleValue("+Inf"), Infinity);
  assert.equal(parseSampleValue("-Inf"), -Infinity);
  assert.equal(parseSampleValue("1.5e+300"), 1.5e300);
  assert.equal(parseSampleValue("-0.25"), -0.25);
  for (const bad of ["", " 1", "abc", "1x"]) assert.throws(() => parseSampleValue(bad), bad);
});

test("vector, scalar, matrix and string results", () => {
  assert.deepEqual(
    decodeQueryData({
      resultType: "vector",
      result: [
        { metric: { pod: "a" }, value: [1.5, "2"] },
        { metric: { pod: "h" }, histogram: [1.5, {}] },
      ],
    }),
    { resultType: "vector", result: [{ metric: { pod: "a" }, value: [1.5, 2] }] },
  );
  assert.deepEqual(decodeQueryData({ resultType: "scalar", result: [1, "NaN"] }).result, [1, NaN]);
  assert.deepEqual(
    decodeQueryData({ resultType: "matrix", result: [{ metric: {}, values: [[1, "1"]] }] }),
    { resultType: "matrix", result: [{ metric: {}, values: [[1, 1]] }] },
  );
  assert.deepEqual(decodeQueryData({ resultType: "string", result: [1, "x"] }).result, [1, "x"]);
});

test("malformed payloads throw", () => {
  assert.throws(() => decodeQueryData(null));
  assert.throws(() => decodeQueryData({ resultType: "nope", result: [] }), /unknown resultType/);
  assert.throws(() => decodeQueryData({ resultType: "vector", result: [{ metric: { a: 1 } }] }));
  assert.throws(() => decodeQueryData({ resultType: "scalar", result: ["1", "1"] }));
  assert.throws(() => decodeSeries(null));
  assert.throws(() => decodeSeries([{ a: null }]));
  assert.throws(() => decodeStringList(["a", 1]));
  assert.deepEqual(decodeSeries([{ __name__: "up" }]), [{ __name__: "up" }]);
});
