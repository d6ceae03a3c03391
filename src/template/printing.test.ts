/**
 * @module template/printing.test
 * Go's %v printing as the template prints values, Sprint's spacing rule and Sprintln. Expected
 * strings were checked against Go 1.26 (fmt.Sprint / template output on the same data).
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { formatValue, noFlags, printForAction, sprint, sprintln } from "./printing.ts";
import { GoMap, goFloat, goStringMap, goStruct, normalize } from "./values.ts";

describe("printForAction (%v, and <no value> for nothing)", () => {
  const table: readonly (readonly [string, unknown, string])[] = [
    ["string slice", ["a", "b"], "[a b]"],
    ["empty slice", [], "[]"],
    ["map with sorted keys", { b: "2", a: "1", c: "3" }, "map[a:1 b:2 c:3]"],
    ["empty map", {}, "map[]"],
    ["map[string]string", goStringMap({ pod: "a|b" }), "map[pod:a|b]"],
    ["nested", { x: [1, "b", null], m: { k: true } }, "map[m:map[k:true] x:[1 b <nil>]]"],
    ["struct", goStruct("T", { A: 1, B: "x" }), "{1 x}"],
    ["nil", null, "<no value>"],
    ["undefined", undefined, "<no value>"],
    ["int", 42, "42"],
    ["negative int", -7, "-7"],
    ["float", 1.5, "1.5"],
    ["float64 whole", goFloat(2), "2"],
    ["float64 large", goFloat(1e6), "1e+06"],
    ["float64 small", 0.00001, "1e-05"],
    ["float64 21 digits", goFloat(123456789), "1.23456789e+08"],
    ["bool", false, "false"],
    ["function", function named() {}, "func named"],
  ];
  for (const [name, value, want] of table) {
    test(name, () => {
      assert.equal(printForAction(normalize(value)), want);
    });
  }
});

describe("sprint and sprintln", () => {
  test("spaces only between operands that are not strings", () => {
    assert.equal(sprint([1, 2, "a", "b", 3, null]), "1 2ab3 <nil>");
    assert.equal(sprint(["a", 1, "b"]), "a1b");
    assert.equal(sprint([]), "");
  });

  test("sprintln always separates and ends with a newline", () => {
    assert.equal(sprintln([1, "a", null]), "1 a <nil>\n");
    assert.equal(sprintln([]), "\n");
  });
});

describe("formatValue", () => {
  test("verbs apply element-wise inside slices and maps", () => {
    const f = noFlags();
    assert.equal(formatValue(["a", "b"], "q", f), '["a" "b"]');
    assert.equal(formatValue([1, 2], "d", f), "[1 2]");
    assert.equal(formatValue(["a"], "d", f), "[%!d(string=a)]");
    assert.equal(
      formatValue(new GoMap("map[string]int", new Map([["k", 1]]), 0), "x", f),
      "map[6b:1]",
    );
  });

  test("%+v names struct fields", () => {
    assert.equal(formatValue(goStruct("T", { A: 1 }), "v", { ...noFlags(), plusV: true }), "{A:1}");
  });

  test("a nil inside a container prints <nil> whatever the verb", () => {
    assert.equal(formatValue([null], "d", noFlags()), "[<nil>]");
    assert.equal(formatValue(null, "d", noFlags()), "%!d(<nil>)");
  });
});
