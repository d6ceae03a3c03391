/**
 * @module apimachinery/field-selector.test
 * Cases restated from apimachinery `pkg/fields/selector_test.go`.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  FieldSelectorError,
  escapeFieldValue,
  parseFieldSelector,
  unescapeFieldValue,
} from "./field-selector.ts";

describe("parseFieldSelector", () => {
  const roundTrip: [string, string][] = [
    ["", ""],
    ["x=a", "x=a"],
    ["x=a,y=b,z=c", "x=a,y=b,z=c"],
    ["z=c,x=a", "x=a,z=c"],
    ["x!=a,y=b", "x!=a,y=b"],
    ["x==a", "x=a"],
    ["x=", "x="],
    ["x= ", "x= "],
    ["x=,z= ", "x=,z= "],
    ["metadata.name=web,status.phase!=Failed", "metadata.name=web,status.phase!=Failed"],
    ["x=a\\,b", "x=a\\,b"],
    ["x=a\\=b\\\\c", "x=a\\=b\\\\c"],
    [",", ""],
  ];
  for (const [input, want] of roundTrip) {
    it(`${JSON.stringify(input)} prints as ${JSON.stringify(want)}`, () => {
      assert.equal(parseFieldSelector(input).toString(), want);
    });
  }
  const bad: [string, string][] = [
    ["x=a||y=b", "invalid field selector: unescaped character in value: 61"],
    ["x", "invalid selector: 'x'; can't understand 'x'"],
    ["x==a==b", "invalid field selector: unescaped character in value: 61"],
    ["x=a,b", "invalid selector: 'x=a,b'; can't understand 'b'"],
    ["x=a\\b", "invalid field selector: invalid escape sequence: \\b"],
    ["x=a\\", "invalid field selector: invalid escape sequence: \\"],
  ];
  for (const [input, message] of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseFieldSelector(input), new FieldSelectorError(message));
    });
  }
});

describe("FieldSelector.matches", () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ["x=y", { x: "y" }, true],
    ["x=y,z=w", { x: "y", z: "w" }, true],
    ["x!=y,z!=w", { x: "z", z: "a" }, true],
    ["x=y", { x: "z" }, false],
    ["x=y,z=w", { x: "w", z: "w" }, false],
    ["x!=y,z!=w", { x: "z", z: "w" }, false],
    ["x=", {}, true],
    ["x!=", {}, false],
    ["x=a\\,b", { x: "a,b" }, true],
    ["", { x: "y" }, true],
  ];
  for (const [selector, fields, want] of cases) {
    it(`${JSON.stringify(selector)} vs ${JSON.stringify(fields)}`, () => {
      assert.equal(parseFieldSelector(selector).matches(fields), want);
    });
  }
});

describe("escape / unescape", () => {
  const cases: [string, string][] = [
    ["", ""],
    ["a", "a"],
    ["=", "\\="],
    [",", "\\,"],
    ["\\", "\\\\"],
    ["\\=\\,\\", "\\\\\\=\\\\\\,\\\\"],
  ];
  for (const [raw, escaped] of cases) {
    it(JSON.stringify(raw), () => {
      assert.equal(escapeFieldValue(raw), escaped);
      assert.equal(unescapeFieldValue(escaped), raw);
    });
  }
});
