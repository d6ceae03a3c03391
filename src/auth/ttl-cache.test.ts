import { test } from "node:test";
import assert from "node:assert/strict";
import { TtlCache } from "./ttl-cache.ts";

test("entries expire at their TTL", () => {
  let now = 0;
  const c = new TtlCache<string>(10, () => now);
  c.set("a", "1", 100);
  now = 99;
  assert.equal(c.get("a"), "1");
  now = 100;
  assert.equal(c.get("a"), undefined);
  assert.equal(c.size, 0);
});

test("a TTL of 0 stores nothing", () => {
  const c = new TtlCache<string>();
  c.set("a", "1", 0);
  assert.equal(c.get("a"), undefined);
});

test("the oldest entry goes when full", () => {
  const c = new TtlCache<number>(2, () => 0);
  c.set("a", 1, 10);
  c.set("b", 2, 10);
  c.set("c", 3, 10);
  assert.deepEqual([c.get("a"), c.get("b"), c.get("c")], [undefined, 2, 3]);
});
