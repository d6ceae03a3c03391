/**
 * @module template/number.test
 * Number literals as Go's parse.newNumber reads them (cases from parse_test.go's numberTests).
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { parseNumber } from "./number.ts";

/** [text, isInt, isUint, isFloat, int, float] */
const OK: readonly (readonly [string, boolean, boolean, boolean, number, number])[] = [
  ["0", true, true, true, 0, 0],
  ["-0", true, true, true, 0, 0],
  ["73", true, true, true, 73, 73],
  ["7_3", true, true, true, 73, 73],
  ["0b10_010_01", true, true, true, 73, 73],
  ["0B10_010_01", true, true, true, 73, 73],
  ["073", true, true, true, 59, 59],
  ["0o73", true, true, true, 59, 59],
  ["0O73", true, true, true, 59, 59],
  ["0x73", true, true, true, 115, 115],
  ["0X73", true, true, true, 115, 115],
  ["0x7_3", true, true, true, 115, 115],
  ["-73", true, false, true, -73, -73],
  ["+73", true, false, true, 73, 73],
  ["100", true, true, true, 100, 100],
  ["1e9", true, true, true, 1e9, 1e9],
  ["-1e9", true, false, true, -1e9, -1e9],
  ["-1.2", false, false, true, 0, -1.2],
  ["1e19", false, true, true, 0, 1e19],
  ["1e1_9", false, true, true, 0, 1e19],
  ["1E19", false, true, true, 0, 1e19],
  ["-1e19", false, false, true, 0, -1e19],
  ["0x_1p4", true, true, true, 16, 16],
  ["0X_1P4", true, true, true, 16, 16],
  ["0x_1p-4", false, false, true, 0, 1 / 16],
  [".5", false, false, true, 0, 0.5],
  ["5.", true, true, true, 5, 5],
  ["9223372036854775807", true, true, true, 2 ** 63, 2 ** 63], // rounds to the nearest double, as float64(int64) does,
  ["18446744073709551615", false, true, true, 0, 2 ** 64],
];

describe("parseNumber", () => {
  for (const [text, isInt, isUint, isFloat, int, float] of OK) {
    test(text, () => {
      const n = parseNumber(text, false);
      assert.deepEqual([n.isInt, n.isUint, n.isFloat], [isInt, isUint, isFloat]);
      if (isInt) assert.equal(n.int, int);
      assert.equal(n.float, float);
    });
  }

  test("character constants", () => {
    assert.deepEqual(parseNumber("'a'", true), {
      isInt: true,
      isUint: true,
      isFloat: true,
      int: 97,
      float: 97,
    });
    assert.equal(parseNumber("'\\n'", true).int, 10);
    assert.equal(parseNumber("'\\u00e9'", true).int, 0xe9);
    assert.equal(parseNumber("'本'", true).int, 0x672c);
  });

  const bad: readonly (readonly [string, string])[] = [
    ["0x", 'illegal number syntax: "0x"'],
    ["1_", 'illegal number syntax: "1_"'],
    ["1__2", 'illegal number syntax: "1__2"'],
    ["1e", 'illegal number syntax: "1e"'],
    ["1.E", 'illegal number syntax: "1.E"'],
    ["1e309", 'illegal number syntax: "1e309"'],
    ["99999999999999999999", 'integer overflow: "99999999999999999999"'],
    ["089", 'integer overflow: "089"'],
  ];
  for (const [text, message] of bad) {
    test(`rejects ${text}`, () => {
      assert.throws(() => parseNumber(text, false), { message });
    });
  }

  test("rejects malformed characters", () => {
    assert.throws(() => parseNumber("'ab'", true), {
      message: "malformed character constant: 'ab'",
    });
    assert.throws(() => parseNumber("'\\q'", true), { message: "invalid syntax" });
  });
});
