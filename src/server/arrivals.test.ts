/**
 * @module server/arrivals.test
 * Tickets per request, handed to the request's handler, waiting for peers that entered
 * earlier (never later ones, never past the cap), and which requests take one (the API groups'
 * keys).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parseRequestTarget } from "../apimachinery/request-target.ts";
import { Arrivals } from "./arrivals.ts";

describe("Arrivals", () => {
  test("tickets of a key are ordered by entry", () => {
    const a = new Arrivals(50);
    const first = a.take("pods/m");
    const second = a.take("pods/m");
    const other = a.take("pods/other");
    assert.ok(first.seq < second.seq && second.seq < other.seq);
    assert.equal(second.key, "pods/m");
  });

  test("waits for peers that entered earlier, until they are spent", async () => {
    const a = new Arrivals(10_000);
    const first = a.take("pods/m");
    const mine = a.take("pods/m");
    const later = a.take("pods/m");
    a.take("pods/other");
    a.spend(mine);
    assert.equal(a.ahead("pods/m", mine.seq), true);
    let done = false;
    const wait = a.peers("pods/m", mine.seq);
    assert.ok(wait);
    void wait.then(() => (done = true));
    await sleep(5);
    assert.equal(done, false);
    a.spend(first);
    await wait;
    // A request that entered later, or for another metric, is not waited for.
    assert.equal(a.ahead("pods/m", mine.seq), false);
    assert.equal(a.peers("pods/m", later.seq), undefined);
  });

  test("next() is above every ticket taken so far, and is the next one's seq", () => {
    const a = new Arrivals(20);
    const t = a.take("pods/m");
    assert.ok(a.next() > t.seq);
    const n = a.next();
    assert.equal(a.take("pods/other").seq, n);
  });

  test("never waits longer than the cap", async () => {
    const a = new Arrivals(20);
    a.take("pods/m");
    const mine = a.take("pods/m");
    const t0 = Date.now();
    await a.peers("pods/m", mine.seq);
    assert.ok(Date.now() - t0 >= 15);
  });

  test("spending twice is harmless", () => {
    const a = new Arrivals(20);
    const t = a.take("deployments.apps/m");
    assert.equal(t.key, "deployments.apps/m");
    a.spend(t);
    a.spend(t);
    assert.equal(a.ahead(t.key, t.seq + 1), false);
  });

  test("a request takes a ticket when an API group keys it, spent when its response closes", () => {
    const a = new Arrivals(20, [
      () => undefined,
      (t) => (t.segments[0] === "apis" ? `k/${t.segments.length}` : undefined),
    ]);
    const closers: (() => void)[] = [];
    const res = { once: (_event: "close", l: () => void) => closers.push(l) };
    let seen: ReturnType<Arrivals["take"]> | undefined;
    a.admit(parseRequestTarget("/apis/g/v/r"), res, (t) => (seen = t));
    assert.equal(seen?.key, "k/4");
    assert.equal(a.ahead("k/4", seen.seq + 1), true);
    for (const c of closers) c();
    assert.equal(a.ahead("k/4", seen.seq + 1), false);
    // Unkeyed: served without a ticket.
    a.admit(parseRequestTarget("/healthz"), res, (t) => (seen = t));
    assert.equal(seen, undefined);
    assert.equal(closers.length, 1);
  });
});
