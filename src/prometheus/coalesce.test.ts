/**
 * @module prometheus/coalesce.test
 * In-flight sharing: overlapping calls share, settled ones are forgotten, errors are not kept.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { InFlight } from "./coalesce.ts";

test("overlapping calls with one key share a promise; settled keys are forgotten", async () => {
  const f = new InFlight<number>();
  let started = 0;
  const start = async (): Promise<number> => {
    const n = ++started;
    await new Promise((r) => setTimeout(r, 10));
    return n;
  };
  const [a, b, c] = await Promise.all([f.run("k", start), f.run("k", start), f.run("j", start)]);
  assert.equal(a, b);
  assert.notEqual(a, c);
  assert.equal(started, 2);
  assert.equal(f.size, 0);
  await f.run("k", start);
  assert.equal(started, 3);
});

test("a failure reaches every waiter and is not replayed", async () => {
  const f = new InFlight<number>();
  const fail = () => Promise.reject(new Error("boom"));
  const results = await Promise.allSettled([
    f.run("k", fail),
    f.run("k", () => Promise.resolve(1)),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ["rejected", "rejected"],
  );
  assert.equal(await f.run("k", () => Promise.resolve(2)), 2);
});
