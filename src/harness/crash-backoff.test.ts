import { test } from "node:test";
import assert from "node:assert/strict";
import {
  HARNESS_BACKOFF,
  KUBELET_BACKOFF,
  crashBackoff,
  type BackoffEntry,
  type BackoffPolicy,
} from "./crash-backoff.ts";

/** The waits for exits at the given times, as the watchdog feeds them. */
function waits(exitTimes: readonly number[], policy: BackoffPolicy): number[] {
  let entry: BackoffEntry | undefined;
  return exitTimes.map((t) => {
    const r = crashBackoff(entry, t, policy);
    entry = r.next;
    return r.waitMs;
  });
}

test("a crash loop restarts at once, then waits 10 s doubling to the 5 min cap (kubelet)", () => {
  // Exits a second after each restart: the waits are the kubelet's CrashLoopBackOff sequence.
  let t = 0;
  let entry: BackoffEntry | undefined;
  const seen: number[] = [];
  for (let i = 0; i < 9; i++) {
    t += 1_000;
    const r = crashBackoff(entry, t, KUBELET_BACKOFF);
    entry = r.next;
    seen.push(r.waitMs / 1000);
    t += r.waitMs;
  }
  assert.deepEqual(seen, [0, 10, 20, 40, 80, 160, 300, 300, 300]);
});

test("the harness's policy is the kubelet's scaled down: 0, 1, 2 … 30 s", () => {
  let t = 0;
  let entry: BackoffEntry | undefined;
  const seen: number[] = [];
  for (let i = 0; i < 8; i++) {
    t += 500;
    const r = crashBackoff(entry, t, HARNESS_BACKOFF);
    entry = r.next;
    seen.push(r.waitMs);
    t += r.waitMs;
  }
  assert.deepEqual(seen, [0, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
});

test("an exit after a quiet period longer than resetAfterMs starts over", () => {
  const p = HARNESS_BACKOFF;
  // Three quick exits, then one after 61 s without any: immediate again, then 1 s.
  assert.deepEqual(waits([0, 100, 1_200, 62_300, 62_400], p), [0, 1_000, 2_000, 0, 1_000]);
  // Exactly resetAfterMs is not yet quiet enough (flowcontrol's `>`).
  assert.deepEqual(waits([0, 100, 60_100], p), [0, 1_000, 2_000]);
});

test("the armed delay never exceeds the cap, whatever it was", () => {
  const r = crashBackoff({ delayMs: 10 * 60_000, lastExitAt: 0 }, 1, HARNESS_BACKOFF);
  assert.equal(r.waitMs, HARNESS_BACKOFF.maxMs);
  assert.equal(r.next.delayMs, HARNESS_BACKOFF.maxMs);
  assert.equal(r.next.lastExitAt, 1);
});
