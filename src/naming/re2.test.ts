import { test } from "node:test";
import assert from "node:assert/strict";
import { compileRe2, findSubmatchIndex, re2Matches } from "./re2.ts";
import { Re2SyntaxError } from "./re2-error.ts";

test("counts capture groups and names like Go (named and unnamed, not (?:…))", () => {
  const re = compileRe2("^(?P<ns>[a-z]+)_(x)(?:y)(?<last>z)?$");
  assert.equal(re.groupCount, 3);
  assert.deepEqual(re.groupNames, ["", "ns", "", "last"]);
  assert.deepEqual(findSubmatchIndex(re, "abc_xy"), [[0, 6], [0, 3], [4, 5], undefined]);
});

test("matching is unanchored and . does not match a newline (Go semantics)", () => {
  assert.ok(re2Matches(compileRe2("my_.*"), "xx_my_label"));
  assert.ok(!re2Matches(compileRe2("^a.b$"), "a\nb"));
  assert.ok(re2Matches(compileRe2("^a.b$"), "a\rb"));
  assert.ok(re2Matches(compileRe2("(?s)^a.b$"), "a\nb"));
  assert.ok(re2Matches(compileRe2("^a(?s:.)b$"), "a\nb"));
});

test("translates Go-only syntax", () => {
  assert.ok(re2Matches(compileRe2("\\Aab\\z"), "ab"));
  assert.ok(!re2Matches(compileRe2("\\Aab\\z"), "ab\n"));
  assert.ok(re2Matches(compileRe2("^[[:alpha:]_]+$"), "abc_D"));
  assert.ok(!re2Matches(compileRe2("^[[:digit:]]+$"), "12a"));
  assert.ok(re2Matches(compileRe2("^\\Qa.b\\E$"), "a.b"));
  assert.ok(!re2Matches(compileRe2("^\\Qa.b\\E$"), "axb"));
  assert.ok(re2Matches(compileRe2("^\\pL+$"), "héllo"));
  assert.ok(re2Matches(compileRe2("^\\p{Greek}$"), "λ"));
  assert.ok(re2Matches(compileRe2("^a{$"), "a{"), "a { that is not a repeat is literal");
  assert.ok(re2Matches(compileRe2("^a{2}$"), "aa"));
  assert.ok(re2Matches(compileRe2("^\\x41\\x{42}$"), "AB"));
  assert.ok(re2Matches(compileRe2("^[]a]+$"), "]a]"));
  assert.ok(re2Matches(compileRe2("^\\-\\_\\#$"), "-_#"));
  assert.ok(re2Matches(compileRe2("(?i)^ABC$"), "abc"));
  assert.ok(!re2Matches(compileRe2("^\\s$"), "\v"), "Go \\s is [\\t\\n\\f\\r ]");
  assert.ok(re2Matches(compileRe2("(?m)^b$"), "a\nb\nc"));
});

test("rejects what RE2 rejects, with a reason and a hint", () => {
  const cases: [string, RegExp][] = [
    ["^(?=foo)", /lookahead/],
    ["(?!bar)", /lookahead/],
    ["(?<=a)b", /lookbehind/],
    ["(?<!a)b", /lookbehind/],
    ["(a)\\1", /backreference/],
    ["(?P<n>a)(?P=n)", /backreference/],
    ["a**", /nested repetition/],
    ["a++", /nested repetition/],
    ["*a", /missing argument/],
    ["a{1001}", /repeat count/],
    ["(a", /missing closing \)/],
    ["a)", /unexpected \)/],
    ["[a", /missing closing \]/],
    ["\\y", /invalid escape/],
    ["a\\", /trailing backslash/],
    ["(?U)a+", /ungreedy/],
    ["a(?i)b", /leading \(\?i\)/],
    ["(?P<a>x)(?P<a>y)", /duplicate capture group name/],
  ];
  for (const [pattern, reason] of cases) {
    assert.throws(
      () => compileRe2(pattern),
      (e: unknown) => e instanceof Re2SyntaxError && reason.test(e.reason) && e.hint !== "",
      pattern,
    );
  }
});
