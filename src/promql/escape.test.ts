/**
 * @module promql/escape.test
 * PromQL string quoting and Go `regexp.QuoteMeta` (cases from Go's regexp all_test.go metaTests).
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { escapeRegex, quoteString } from "./escape.ts";

describe("escapeRegex (QuoteMeta)", () => {
  const table: [string, string][] = [
    ["", ""],
    ["foo", "foo"],
    ["foo\\.\\$", "foo\\\\\\.\\\\\\$"],
    ["foo.\\$", "foo\\.\\\\\\$"],
    ["!@#$%^&*()_+-=[{]}\\|,<.>/?~", "!@#\\$%\\^&\\*\\(\\)_\\+-=\\[\\{\\]\\}\\\\\\|,<\\.>/\\?~"],
    ["a|b", "a\\|b"],
    [".*", "\\.\\*"],
    ["日本", "日本"],
  ];
  for (const [input, want] of table) {
    it(JSON.stringify(input), () => {
      assert.equal(escapeRegex(input), want);
    });
  }
  it("makes any text match only itself", () => {
    for (const text of ["a|b", ".*", "(x)", "[a-z]+", "^$", "a{2}", "\\d", "?", "日本.+"]) {
      const re = new RegExp(`^(?:${escapeRegex(text)})$`, "u");
      assert.ok(re.test(text), text);
      assert.ok(!re.test(`${text}x`), text);
      assert.ok(!re.test("ab"), text);
    }
  });
});

describe("quoteString", () => {
  it("quotes like Go %q", () => {
    assert.equal(quoteString('a"b'), '"a\\"b"');
    assert.equal(quoteString("line\nbreak"), '"line\\nbreak"');
    assert.equal(quoteString("a\\.b"), '"a\\\\.b"');
  });
});
