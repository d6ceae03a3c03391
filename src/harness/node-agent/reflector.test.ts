import { test } from "node:test";
import assert from "node:assert/strict";
import { Reflector, objectKey, type ListResult, type Meta } from "./reflector.ts";

interface Obj extends Meta {
  readonly v?: number;
}

const obj = (ns: string, name: string, rv: string, v = 0): Obj => ({
  metadata: { namespace: ns, name, resourceVersion: rv },
  v,
});

const tick = () => new Promise((r) => setTimeout(r, 10));

/** An API server stand-in: lists answer `lists` in turn; every watch is recorded to be driven. */
function fakeServer(lists: ListResult<Obj>[]) {
  const calls: string[] = [];
  const watches: {
    rv: string;
    emit: (type: string, o: unknown) => void;
    done: (err: unknown) => void;
    aborted: boolean;
  }[] = [];
  let changes = 0;
  const r = new Reflector<Obj>({
    resource: "things",
    list: () => {
      calls.push("list");
      const next = lists.shift();
      return next ? Promise.resolve(next) : Promise.reject(new Error("no list"));
    },
    watch: (rv, emit, done) => {
      calls.push(`watch ${rv}`);
      const w = { rv, emit, done, aborted: false };
      watches.push(w);
      return Promise.resolve({
        abort: () => {
          w.aborted = true;
        },
      });
    },
    decode: (raw) => raw as Obj,
    onChange: () => {
      changes++;
    },
    log: () => undefined,
    backoffMs: () => 0,
  });
  return { r, calls, watches, changes: () => changes };
}

test("objectKey is namespace/name, or name for cluster-scoped objects", () => {
  assert.equal(objectKey(obj("ns", "a", "1")), "ns/a");
  assert.equal(objectKey({ metadata: { name: "node" } }), "node");
});

test("lists, then watches from the list's resourceVersion, applying events", async () => {
  const s = fakeServer([
    { items: [obj("b", "x", "5"), obj("a", "y", "4")], metadata: { resourceVersion: "10" } },
  ]);
  assert.equal(s.r.synced, false);
  await s.r.start();
  assert.equal(s.r.synced, true);
  assert.deepEqual(s.calls, ["list", "watch 10"]);
  assert.deepEqual(s.r.list().map(objectKey), ["a/y", "b/x"]);
  const w = s.watches[0]!;
  w.emit("ADDED", obj("a", "z", "11"));
  w.emit("MODIFIED", obj("b", "x", "12", 7));
  w.emit("DELETED", obj("a", "y", "13"));
  w.emit("BOOKMARK", { metadata: { resourceVersion: "20" } });
  assert.deepEqual(
    s.r.list().map((o) => [objectKey(o), o.v]),
    [
      ["a/z", 0],
      ["b/x", 7],
    ],
  );
  assert.equal(s.r.resourceVersion, "20");
  assert.equal(s.changes(), 4); // the list and three changes; a bookmark changes nothing
  s.r.stop();
});

test("a watch the server ends is resumed from the last resourceVersion, without a list", async () => {
  const s = fakeServer([{ items: [], metadata: { resourceVersion: "10" } }]);
  await s.r.start();
  s.watches[0]!.emit("ADDED", obj("a", "z", "11"));
  s.watches[0]!.done(null);
  await tick();
  s.watches[1]!.done(new Error("ECONNRESET"));
  await tick();
  assert.deepEqual(s.calls, ["list", "watch 10", "watch 11", "watch 11"]);
  assert.deepEqual(s.r.list().map(objectKey), ["a/z"]);
  s.r.stop();
});

test("410 Gone lists again and watches from the new list", async () => {
  const s = fakeServer([
    { items: [obj("a", "old", "3")], metadata: { resourceVersion: "10" } },
    { items: [obj("a", "new", "40")], metadata: { resourceVersion: "50" } },
    { items: [], metadata: { resourceVersion: "70" } },
  ]);
  await s.r.start();
  const w = s.watches[0]!;
  w.emit("ERROR", { kind: "Status", code: 410, reason: "Expired" });
  assert.equal(w.aborted, true);
  await tick();
  assert.deepEqual(s.calls, ["list", "watch 10", "list", "watch 50"]);
  assert.deepEqual(s.r.list().map(objectKey), ["a/new"]);
  // Events of the ended watch are ignored.
  w.emit("ADDED", obj("a", "late", "99"));
  assert.deepEqual(s.r.list().map(objectKey), ["a/new"]);
  // A watch refused with HTTP 410 lists again too.
  s.watches[1]!.done(Object.assign(new Error("Gone"), { statusCode: 410 }));
  await tick();
  assert.deepEqual(s.calls.slice(4), ["list", "watch 70"]);
  assert.deepEqual(s.r.list(), []);
  s.r.stop();
});

test("a failed list is retried and the store stays unsynced until one works", async () => {
  const s = fakeServer([]);
  await s.r.start();
  assert.equal(s.r.synced, false);
  s.r.stop();
  await tick();
  const calls = s.calls.length;
  await tick();
  assert.equal(s.calls.length, calls, "stopped: no more lists");
});
