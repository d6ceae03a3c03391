import assert from "node:assert/strict";
import { test } from "node:test";
import { InFlightLimit } from "./max-in-flight.ts";

test("places are taken up to the limit and given back once each", () => {
  const l = new InFlightLimit(2);
  const a = l.enter(["system:authenticated"]);
  const b = l.enter([]);
  assert.ok(a && b);
  assert.equal(l.enter([]), undefined);
  assert.equal(l.refused, 1);
  a();
  a(); // twice (close after an error): still one place
  assert.equal(l.current, 1);
  assert.ok(l.enter([]));
  assert.equal(l.enter([]), undefined);
});

test("system:masters is never refused and takes no place; 0 is no limit", () => {
  const l = new InFlightLimit(1);
  assert.ok(l.enter([]));
  const admin = l.enter(["system:masters"]);
  assert.ok(admin);
  assert.equal(l.current, 1);
  const none = new InFlightLimit(0);
  for (let i = 0; i < 1000; i++) assert.ok(none.enter([]));
  assert.equal(none.current, 0);
});
