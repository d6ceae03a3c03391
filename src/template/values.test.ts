/**
 * @module template/values.test
 * The value model: how JS data reads as Go values (kinds, type names, length and truth).
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  GoFloat,
  GoMap,
  goFloat,
  goStringMap,
  goStruct,
  isTrue,
  kindOf,
  lengthOf,
  normalize,
  typeName,
} from "./values.ts";

describe("normalize and kindOf", () => {
  const table: readonly (readonly [unknown, string, string])[] = [
    [null, "invalid", "<nil>"],
    [undefined, "invalid", "<nil>"],
    ["s", "string", "string"],
    [true, "bool", "bool"],
    [3, "int", "int"],
    [3n, "int", "int"],
    [3.5, "float", "float64"],
    [goFloat(3), "float", "float64"],
    [["a"], "slice", "[]string"],
    [[1, 2], "slice", "[]int"],
    [[1, "a"], "slice", "[]interface {}"],
    [[], "slice", "[]interface {}"],
    [{ a: 1 }, "map", "map[string]interface {}"],
    [new Map([["a", 1]]), "map", "map[string]interface {}"],
    [goStringMap({ a: "b" }), "map", "map[string]string"],
    [goStruct("naming.queryTemplateArgs", {}), "struct", "naming.queryTemplateArgs"],
    [() => 1, "unsupported", "function"],
    [new Date(0), "unsupported", "object"],
  ];
  for (const [value, kind, name] of table) {
    test(`${name} (${kind})`, () => {
      const v = normalize(value);
      assert.equal(kindOf(v), kind);
      assert.equal(typeName(v), name);
    });
  }

  test("non-integers become float64", () => {
    assert.ok(normalize(0.1) instanceof GoFloat);
  });

  test("a map[string]string indexes a missing key to its zero value", () => {
    const m = goStringMap(new Map([["a", "b"]]));
    assert.ok(m instanceof GoMap);
    assert.equal(m.zero, "");
  });
});

describe("lengthOf and isTrue", () => {
  test("length counts UTF-8 bytes for strings, as Go's len", () => {
    assert.equal(lengthOf("héllo"), 6);
    assert.equal(lengthOf([1, 2]), 2);
    assert.equal(lengthOf(normalize({ a: 1 })), 1);
    assert.equal(lengthOf(3), undefined);
  });

  const truth: readonly (readonly [unknown, boolean])[] = [
    ["", false],
    ["x", true],
    [0, false],
    [-1, true],
    [goFloat(0), false],
    [0.5, true],
    [false, false],
    [true, true],
    [null, false],
    [[], false],
    [[0], true],
    [{}, false],
    [{ a: 0 }, true],
    [goStruct("T", {}), true],
  ];
  for (const [value, want] of truth) {
    test(`isTrue(${JSON.stringify(value)}) is ${want}`, () => {
      assert.equal(isTrue(normalize(value)), want);
    });
  }
});
