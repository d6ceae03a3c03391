import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ListMemo } from "./list-memo.ts";
import { SerializedBody } from "./types.ts";

describe("ListMemo", () => {
  const a = { name: "a" };
  const b = { name: "b" };

  it("hands back the answer built from the very same inputs at the same stamp", () => {
    const memo = new ListMemo();
    const body = new SerializedBody("[1]");
    memo.set(
      "k",
      "t1",
      [
        [a, b],
        [1, 2],
      ],
      body,
    );
    assert.equal(
      memo.get("k", "t1", [
        [a, b],
        [1, 2],
      ]),
      body,
    );
  });

  it("misses on another stamp, another key, an equal but distinct object, or another order", () => {
    const memo = new ListMemo();
    memo.set("k", "t1", [[a, b]], new SerializedBody("[1]"));
    assert.equal(memo.get("k", "t2", [[a, b]]), undefined);
    assert.equal(memo.get("other", "t1", [[a, b]]), undefined);
    assert.equal(memo.get("k", "t1", [[{ name: "a" }, b]]), undefined);
    assert.equal(memo.get("k", "t1", [[b, a]]), undefined);
    assert.equal(memo.get("k", "t1", [[a]]), undefined);
    assert.equal(memo.get("k", "t1", [[a, b], []]), undefined);
  });

  it("replaces the entry of a key", () => {
    const memo = new ListMemo();
    memo.set("k", "t1", [[a]], new SerializedBody("old"));
    const next = new SerializedBody("new");
    memo.set("k", "t2", [[b]], next);
    assert.equal(memo.size, 1);
    assert.equal(memo.get("k", "t2", [[b]]), next);
    assert.equal(memo.get("k", "t1", [[a]]), undefined);
  });

  it("keeps at most maxEntries, dropping the oldest", () => {
    const memo = new ListMemo({ maxEntries: 2 });
    memo.set("1", "t", [[a]], new SerializedBody("1"));
    memo.set("2", "t", [[a]], new SerializedBody("2"));
    memo.set("3", "t", [[a]], new SerializedBody("3"));
    assert.equal(memo.size, 2);
    assert.equal(memo.get("1", "t", [[a]]), undefined);
    assert.equal(memo.get("3", "t", [[a]])?.text, "3");
  });

  it("past maxChars keeps only the newest answers that fit, and always the newest", () => {
    const memo = new ListMemo({ maxChars: 10 });
    memo.set("1", "t", [[a]], new SerializedBody("12345"));
    memo.set("2", "t", [[a]], new SerializedBody("12345"));
    assert.equal(memo.size, 2);
    memo.set("3", "t", [[a]], new SerializedBody("1"));
    assert.equal(memo.size, 2);
    assert.equal(memo.get("1", "t", [[a]]), undefined);
    memo.set("big", "t", [[a]], new SerializedBody("x".repeat(50)));
    assert.equal(memo.size, 1);
    assert.equal(memo.get("big", "t", [[a]])?.text.length, 50);
  });
});

describe("ListMemo lifetime", () => {
  const a = { name: "a" };

  it("an answer of an older stamp goes when one of a newer stamp is kept", () => {
    const memo = new ListMemo();
    memo.set("k1", "t1", [[a]], new SerializedBody("[1]"));
    memo.set("k2", "t1", [[a]], new SerializedBody("[2]"));
    assert.equal(memo.size, 2);
    memo.set("k3", "t2", [[a]], new SerializedBody("[3]"));
    assert.equal(memo.size, 1);
    assert.equal(memo.get("k1", "t1", [[a]]), undefined);
  });

  it("nothing is kept longer than keepMs after the last answer", async () => {
    const memo = new ListMemo({ keepMs: 20 });
    memo.set("k", "t1", [[a]], new SerializedBody("[1]"));
    await new Promise((r) => setTimeout(r, 10));
    memo.set("k2", "t1", [[a]], new SerializedBody("[2]")); // re-arms
    await new Promise((r) => setTimeout(r, 15));
    assert.equal(memo.size, 2);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(memo.size, 0);
  });
});
