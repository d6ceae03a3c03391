import { test } from "node:test";
import assert from "node:assert/strict";
import { routeEvent, WatchGoneError, type WatchEvent } from "./reflector.ts";

const sink = () => {
  const seen: string[] = [];
  return {
    seen,
    to: {
      put: (o: WatchEvent["object"]) => seen.push(`put ${o.metadata?.name ?? ""}`),
      remove: (o: WatchEvent["object"]) => seen.push(`remove ${o.metadata?.name ?? ""}`),
    },
  };
};

test("events go to put and remove; the resourceVersion comes back", () => {
  const s = sink();
  const rv = routeEvent(
    { type: "ADDED", object: { metadata: { name: "a", resourceVersion: "7" } } },
    s.to,
  );
  routeEvent({ type: "DELETED", object: { metadata: { name: "a" } } }, s.to);
  assert.equal(rv, "7");
  assert.deepEqual(s.seen, ["put a", "remove a"]);
  assert.throws(
    () => routeEvent({ type: "ERROR", object: { code: 410, reason: "Expired" } }, s.to),
    WatchGoneError,
  );
});

test("a line that is no watch event is an error saying what came, not a TypeError", () => {
  const s = sink();
  for (const line of [{ type: "ADDED" }, null, { type: "MODIFIED", object: "x" }]) {
    assert.throws(
      () => routeEvent(line as unknown as WatchEvent, s.to),
      (e: unknown) =>
        e instanceof Error &&
        !(e instanceof TypeError) &&
        e.message.startsWith("malformed watch event from the API server: "),
    );
  }
  assert.deepEqual(s.seen, []);
});
