/**
 * @module apimachinery/go-quote.test
 * Cases restated from Go's strconv quote_test.go (quotetests), plus surrogate handling.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";

import { goQuote, quote } from "./go-quote.ts";

describe("goQuote", () => {
  const table: [string, string][] = [
    ["", '""'],
    ["abc", '"abc"'],
    ["\x07\b\f\r\n\t\v", '"\\a\\b\\f\\r\\n\\t\\v"'],
    ["\\", '"\\\\"'],
    ['"', '"\\""'],
    ["'", '"\'"'],
    ["\u263a", '"☺"'],
    ["\u{10ffff}", '"\\U0010ffff"'],
    ["\x04", '"\\x04"'],
    ["\0", '"\\x00"'],
    ["!\u00a0!\u2000!\u3000!", '"!\\u00a0!\\u2000!\\u3000!"'],
    ["\x7f", '"\\x7f"'],
    ["\u0085", '"\\u0085"'],
    ["\u200b", '"\\u200b"'],
    ["\ufeff", '"\\ufeff"'],
    ["\u{1f600}", '"😀"'],
    ["\u{e000}", '"\\ue000"'],
    ["é日本", '"é日本"'],
    ["a\ud800b", '"a�b"'],
    ["\udfff", '"�"'],
    ["${x}`", '"${x}`"'],
  ];
  for (const [input, want] of table) {
    it(JSON.stringify(input), () => {
      assert.equal(goQuote(input), want);
    });
  }
});

describe("quote's plain-ASCII shortcut", () => {
  // What the per-character path gives: the shortcut must never differ from it.
  const slow = (s: string) => quote(`${s}\u00e9`).slice(0, -2) + '"';
  it("equals the per-character path for any ASCII text", () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom(...Array.from({ length: 128 }, (_, i) => String.fromCharCode(i))),
        }),
        (s) => {
          assert.equal(quote(s), slow(s));
          assert.equal(quote(s, true), slow(s));
        },
      ),
    );
  });
});
