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

const policy = { leadMs: (ttl: number) => ttl / 5, idleMs: (ttl: number) => 2 * ttl };

test("due for refresh: live, within the lead of expiry, asked for within the idle window", () => {
  let now = 0;
  const c = new TtlCache<string>(10, () => now);
  c.set("a", "1", 100);
  c.set("b", "2", 200);
  now = 79;
  assert.deepEqual(c.dueForRefresh(policy), []);
  now = 80;
  assert.deepEqual(c.dueForRefresh(policy), ["a"]);
  now = 160;
  // a expired (swept), b within its lead.
  assert.deepEqual(c.dueForRefresh(policy), ["b"]);
  assert.equal(c.size, 1);
});

test("a refreshed entry keeps its last use; one unused for the idle window is not due", () => {
  let now = 0;
  const c = new TtlCache<string>(10, () => now);
  c.set("a", "1", 100);
  now = 90;
  c.set("a", "2", 100, c.lastUsedAt("a")); // a refresh: last use still 0
  now = 150;
  assert.equal(c.get("a"), "2"); // used at 150
  now = 180;
  c.set("a", "3", 100, c.lastUsedAt("a"));
  assert.equal(c.lastUsedAt("a"), 150);
  now = 265;
  assert.ok(c.isDueForRefresh("a", policy)); // 115 since its last use ≤ 200
  c.set("a", "4", 100, c.lastUsedAt("a"));
  now = 351;
  assert.ok(!c.isDueForRefresh("a", policy)); // 201 since its last use
  assert.deepEqual(c.dueForRefresh(policy), []);
  now = 365;
  assert.equal(c.get("a"), undefined); // expired as any other
});
