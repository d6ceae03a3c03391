/**
 * @module apimachinery/label-selector-memo.test
 * A kept selector is the parser's answer for exactly its own text, shared only with the same text,
 * and frozen so no caller can change what another reads; bad texts throw every time.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { LabelSelectorError } from "./label-selector.ts";
import { LabelSelectorMemo } from "./label-selector-memo.ts";
import { parseLabelSelector, parseRequirements } from "./label-selector-parser.ts";

test("answers what the parser answers, for every text", () => {
  const memo = new LabelSelectorMemo();
  for (const text of ["", "app=web", "app==web", "app!=web", "b=1,a in (y,x,x)", "!canary,tier"]) {
    assert.deepEqual(memo.requirements(text), parseRequirements(text), text);
    assert.equal(memo.parse(text).toString(), parseLabelSelector(text).toString(), text);
  }
});

test("the same text shares one selector; different texts never do", () => {
  const memo = new LabelSelectorMemo();
  const a = memo.parse("app=dep-1");
  assert.equal(memo.parse("app=dep-1"), a);
  // Texts that parse to equal requirements are still kept apart.
  assert.notEqual(memo.parse("app==dep-1"), a);
  assert.notEqual(memo.parse("app=dep-1 "), a);
  assert.notEqual(memo.parse("app=dep-10"), a);
  assert.deepEqual(memo.requirements("app=dep-10")[0]?.values, ["dep-10"]);
  assert.equal(memo.size, 4);
});

test("a kept selector cannot be changed by a caller", () => {
  const memo = new LabelSelectorMemo();
  const reqs = memo.requirements("tier in (web,db),app=x");
  assert.ok(Object.isFrozen(reqs));
  for (const r of reqs) {
    assert.ok(Object.isFrozen(r));
    assert.ok(Object.isFrozen(r.values));
  }
  assert.throws(() => (reqs as unknown[]).push({}), TypeError);
  assert.deepEqual(
    memo.requirements("tier in (web,db),app=x"),
    parseRequirements("tier in (web,db),app=x"),
  );
});

test("a bad text is not kept and throws the parser's error each time", () => {
  const memo = new LabelSelectorMemo();
  for (let i = 0; i < 2; i++) {
    assert.throws(
      () => memo.parse("app=("),
      (e: unknown) => e instanceof LabelSelectorError && /expected/.test(e.message),
    );
  }
  assert.equal(memo.size, 0);
});

test("bounded: past its size the oldest text goes first", () => {
  const memo = new LabelSelectorMemo(2);
  const a = memo.parse("a=1");
  memo.parse("b=1");
  memo.parse("c=1");
  assert.equal(memo.size, 2);
  assert.notEqual(memo.parse("a=1"), a);
  assert.deepEqual(memo.requirements("a=1"), parseRequirements("a=1"));
});
