import assert from "node:assert/strict";
import { test } from "node:test";
import { StringTable } from "./string-table.ts";

test("equal strings come back as the first one seen; the table starts over past its bound", () => {
  const t = new StringTable(2);
  const a = ["name", "x"].join("-");
  const b = ["name", "x"].join("-");
  assert.equal(t.intern(a), a);
  assert.equal(t.intern(b), a);
  assert.equal(t.intern("other"), "other");
  assert.equal(t.size, 2);
  assert.equal(t.intern("third"), "third"); // full: cleared, then kept
  assert.equal(t.size, 1);
  assert.equal(t.intern(b), b);
});
