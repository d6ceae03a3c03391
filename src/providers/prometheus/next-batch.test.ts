/**
 * @module providers/prometheus/next-batch.test
 * The batching policy: a lone call goes out at once; calls that arrive while a send for their key
 * is in flight go out together right after it; keys are independent; failures reach every call.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NextBatch, type BatchGate } from "./next-batch.ts";

/** A send whose batches are recorded and finished by hand. */
function manual(gate?: BatchGate<number>) {
  const sends: { key: string; items: readonly number[]; finish: (e?: Error) => void }[] = [];
  const batcher = new NextBatch<number, number>(
    (key, items) =>
      new Promise((resolve, reject) => {
        sends.push({
          key,
          items,
          finish: (e) => {
            if (e) reject(e);
            else resolve(items.map((i) => ({ status: "fulfilled", value: i * 10 })));
          },
        });
      }),
    gate,
  );
  const at = (i: number) => {
    const s = sends[i];
    if (!s) throw new Error(`no send ${String(i)}`);
    return s;
  };
  return { batcher, sends, at };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("NextBatch", () => {
  test("a lone call is sent at once, without waiting for company", async () => {
    const { batcher, sends, at } = manual();
    const p = batcher.load("m", 1);
    assert.equal(sends.length, 1);
    assert.deepEqual(at(0).items, [1]);
    at(0).finish();
    assert.equal(await p, 10);
    await tick();
    assert.equal(batcher.active, 0);
  });

  test("calls during a send go out together when it returns, each with its own answer", async () => {
    const { batcher, sends, at } = manual();
    const first = batcher.load("m", 1);
    const later = [2, 3, 4].map((i) => batcher.load("m", i));
    assert.equal(sends.length, 1, "nothing more is sent while the first is in flight");
    at(0).finish();
    assert.equal(await first, 10);
    await tick();
    assert.equal(sends.length, 2);
    assert.deepEqual(at(1).items, [2, 3, 4]);
    // A call arriving during the second send waits for the third.
    const last = batcher.load("m", 5);
    at(1).finish();
    assert.deepEqual(await Promise.all(later), [20, 30, 40]);
    await tick();
    assert.deepEqual(at(2).items, [5]);
    at(2).finish();
    assert.equal(await last, 50);
    await tick();
    assert.equal(batcher.active, 0);
  });

  test("keys do not wait for each other", () => {
    const { batcher, sends } = manual();
    void batcher.load("a", 1);
    void batcher.load("b", 2);
    assert.deepEqual(
      sends.map((s) => s.key),
      ["a", "b"],
    );
  });

  test("a failed send fails its calls only, and the queue still goes out", async () => {
    const { batcher, at } = manual();
    const first = batcher.load("m", 1);
    const second = batcher.load("m", 2);
    at(0).finish(new Error("boom"));
    await assert.rejects(first, /boom/);
    await tick();
    at(1).finish();
    assert.equal(await second, 20);
  });

  test("per-item rejections reach only their call", async () => {
    const batcher = new NextBatch<number, number>((_k, items) =>
      Promise.resolve(
        items.map((i) =>
          i % 2 === 0
            ? { status: "rejected" as const, reason: new Error(`odd ${String(i)}`) }
            : { status: "fulfilled" as const, value: i },
        ),
      ),
    );
    assert.equal(await batcher.load("m", 1), 1);
    await assert.rejects(batcher.load("m", 2), /odd 2/);
  });

  test("a gate holds a send back; calls arriving meanwhile join it", async () => {
    let open = () => {};
    const gated: number[][] = [];
    const { batcher, sends, at } = manual((_key, items) => {
      gated.push([...items]);
      // Only the first send is held; the next one (after it) passes at once.
      if (gated.length > 1) return undefined;
      return new Promise<void>((r) => (open = r));
    });
    const a = batcher.load("m", 1);
    const b = batcher.load("m", 2);
    assert.equal(sends.length, 0, "held by the gate");
    open();
    await tick();
    assert.deepEqual(at(0).items, [1, 2]);
    const c = batcher.load("m", 3);
    at(0).finish();
    assert.deepEqual(await Promise.all([a, b]), [10, 20]);
    await tick();
    assert.deepEqual(at(1).items, [3]);
    at(1).finish();
    assert.equal(await c, 30);
    assert.deepEqual(gated, [[1], [3]]);
  });
});
