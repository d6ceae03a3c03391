import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { WatchGoneError } from "../../kube/reflector.ts";
import { NodeTargetStore } from "./node-targets.ts";

/** A Node as the API server sends it: far more than a scrape reads. */
function node(name: string, ip: string, rv: string): Record<string, unknown> {
  return {
    metadata: { name, resourceVersion: rv, labels: { a: "b" }, managedFields: [{}] },
    status: {
      addresses: [{ type: "InternalIP", address: ip }],
      images: [{ names: ["registry/app:1"], sizeBytes: 1 }],
    },
  };
}

describe("NodeTargetStore", () => {
  test("keeps what a scrape reads, through ADDED, MODIFIED, DELETED and BOOKMARK", () => {
    const s = new NodeTargetStore();
    s.replaceCached([{ metadata: { name: "a" }, status: { addresses: [] } }], "5");
    assert.equal(s.resourceVersion, "5");
    s.apply({ type: "ADDED", object: node("b", "10.0.0.2", "6") });
    s.apply({ type: "MODIFIED", object: node("a", "10.0.0.1", "7") });
    assert.deepEqual(s.list(), [
      {
        metadata: { name: "a" },
        status: { addresses: [{ type: "InternalIP", address: "10.0.0.1" }] },
      },
      {
        metadata: { name: "b" },
        status: { addresses: [{ type: "InternalIP", address: "10.0.0.2" }] },
      },
    ]);
    s.apply({ type: "BOOKMARK", object: { metadata: { resourceVersion: "9" } } });
    assert.equal(s.resourceVersion, "9");
    s.apply({ type: "DELETED", object: node("a", "10.0.0.1", "10") });
    assert.deepEqual(
      s.list().map((n) => n.metadata.name),
      ["b"],
    );
    assert.equal(s.resourceVersion, "10");
    // A snapshot: a later event does not change a list already handed out.
    const before = s.list();
    s.apply({ type: "DELETED", object: node("b", "10.0.0.2", "11") });
    assert.equal(before.length, 1);
    assert.equal(s.list().length, 0);
  });

  test("ERROR 410 asks for a relist, other errors for a re-watch", () => {
    const s = new NodeTargetStore();
    assert.throws(() => {
      s.apply({ type: "ERROR", object: { code: 410, reason: "Expired", message: "too old" } });
    }, WatchGoneError);
    assert.throws(
      () => {
        s.apply({ type: "ERROR", object: { code: 500, message: "boom" } });
      },
      (e) => e instanceof Error && !(e instanceof WatchGoneError) && /boom/.test(e.message),
    );
  });
});
