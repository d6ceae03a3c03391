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

test("a key used every 15 s with a 10 s TTL is refreshed once a period, before each use", () => {
  let now = 0;
  const c = new TtlCache<string>(10, () => now, true);
  const lead = { leadMs: () => 2_000, idleMs: (ttl: number) => 2 * ttl };
  const refreshedAt: number[] = [];
  c.set("k", "v", 10_000); // asked at 0
  for (let t = 0; t <= 75_000; t += 500) {
    now = t;
    if (t % 15_000 === 0 && t > 0) assert.equal(c.get("k"), "v", `a live answer at ${String(t)}`);
    if (t % 1_000 === 0 && c.dueForRefresh(lead).includes("k")) {
      refreshedAt.push(t);
      c.set("k", "v", 10_000, c.lastUsedAt("k"));
    }
  }
  // 8 s: the period not known yet. Then one per 15 s: after an expiry, 2 s before the use (28,
  // 58); before an expiry, when the new answer lives to the next use (36, 66).
  assert.deepEqual(refreshedAt, [8_000, 28_000, 36_000, 58_000, 66_000]);
});

test("uses within a second are one burst; a key used more often than its TTL never lapses", () => {
  let now = 0;
  const c = new TtlCache<string>(10, () => now, true);
  const lead = { leadMs: () => 2_000, idleMs: (ttl: number) => 2 * ttl };
  c.set("burst", "b", 10_000);
  c.set("busy", "b", 10_000);
  const refreshed: string[] = [];
  for (let t = 100; t <= 30_000; t += 100) {
    now = t;
    // "burst": asked every 100 ms for 300 ms at 0 and at 15 s; "busy": every 3 s.
    if (t % 15_000 <= 300) c.get("burst");
    if (t % 3_000 === 0) assert.equal(c.get("busy"), "b", `busy lapsed at ${String(t)}`);
    if (t % 1_000 === 0) {
      for (const k of c.dueForRefresh(lead)) {
        refreshed.push(`${k}@${String(t / 1000)}`);
        c.set(k, "b", 10_000, c.lastUsedAt(k));
      }
    }
  }
  // "burst": its period is 15 s, not 100 ms: at 8 s (period unknown), then 2 s before the use at
  // 30 s. "busy": at each expiry's lead, so its answer never lapses.
  assert.deepEqual(
    refreshed.filter((r) => r.startsWith("burst")),
    ["burst@8", "burst@28"],
  );
  assert.deepEqual(
    refreshed.filter((r) => r.startsWith("busy")),
    ["busy@8", "busy@16", "busy@24"],
  );
});

test("expired entries: gone when found without keepExpired; kept while in use, swept when idle", () => {
  let now = 0;
  const plain = new TtlCache<string>(10, () => now);
  const kept = new TtlCache<string>(10, () => now, true);
  const lead = { leadMs: () => 20, idleMs: (ttl: number) => 2 * ttl };
  plain.set("a", "1", 100);
  kept.set("a", "1", 100);
  now = 150;
  assert.equal(plain.get("a"), undefined);
  assert.equal(kept.get("a"), undefined); // expired: no answer, but a use
  assert.equal(plain.size, 0);
  assert.equal(kept.size, 1);
  assert.equal(kept.lastUsedAt("a"), 150);
  now = 349;
  kept.dueForRefresh(lead);
  assert.equal(kept.size, 1); // used 199 ago, within two TTLs
  now = 351;
  kept.dueForRefresh(lead);
  assert.equal(kept.size, 0);
});

test("a key asked at two phases of a 15 s cycle (uneven gaps) always has a live answer", () => {
  const lead = { leadMs: () => 2_000, idleMs: (ttl: number) => 2 * ttl };
  for (let a = 0; a < 15; a++) {
    for (let b = a + 1; b < 15; b++) {
      let now = 0;
      const c = new TtlCache<string>(10, () => now, true);
      for (let t = 0; t <= 120_000; t += 1_000) {
        now = t;
        const phase = (t / 1_000) % 15;
        if (phase === a || phase === b) {
          const hit = c.get("k");
          if (hit === undefined) {
            // Only the first ask of all may wait for a review.
            assert.equal(
              t,
              a * 1_000,
              `phases ${String(a)},${String(b)}: no answer at ${String(t)}`,
            );
            c.set("k", "v", 10_000);
          }
        }
        for (const k of c.dueForRefresh(lead)) c.set(k, "v", 10_000, c.lastUsedAt(k));
      }
    }
  }
});
