/**
 * @module apis/list-memo
 * The last serialized answer of each list request, handed out again while every input is the very
 * same object: the same pods (the pod cache keeps one object per pod until the pod changes), the
 * same usage (a kubelet source keeps one object per pod for a whole scrape round) and the same
 * creation timestamp (whole seconds). Same inputs give the same bytes, so a reuse is exact.
 *
 * Why: clients listing every pod of a large cluster at once (`kubectl top pods -A`, dashboards)
 * otherwise cost one full answer each. At 30,000 pods an answer is ~8 MB; 16 concurrent ones ran
 * a 256 MiB heap out (issue #15). With the memo they cost one answer a second.
 *
 * An answer is of no use past its second: one with an older stamp goes as soon as an answer of a
 * newer one is kept, and all of them a moment after the last was kept, so neither the answer nor
 * the round of usage it holds on to outlives the burst of requests (~20 MiB at 30,000 pods).
 */
import type { SerializedBody } from "./types.ts";

interface Entry {
  readonly stamp: string;
  readonly inputs: readonly (readonly unknown[])[];
  readonly body: SerializedBody;
}

function sameElements(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class ListMemo {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxChars: number;
  readonly #keepMs: number;
  #chars = 0;
  #timer: NodeJS.Timeout | undefined;

  /**
   * At most `maxEntries` answers, and past `maxChars` characters in all only the newest one (a
   * 30,000-pod answer alone is ~8 M characters); none kept longer than `keepMs` after the last
   * was (default 2 s: a stamp is a whole second).
   */
  constructor(o: { maxEntries?: number; maxChars?: number; keepMs?: number } = {}) {
    this.#maxEntries = o.maxEntries ?? 8;
    this.#maxChars = o.maxChars ?? 16 * 1024 * 1024;
    this.#keepMs = o.keepMs ?? 2_000;
  }

  /** The answer kept for `key` if it was built from identical (`===`) inputs at `stamp`. */
  get(
    key: string,
    stamp: string,
    inputs: readonly (readonly unknown[])[],
  ): SerializedBody | undefined {
    const e = this.#entries.get(key);
    if (e?.stamp !== stamp || e.inputs.length !== inputs.length) return undefined;
    for (let i = 0; i < inputs.length; i++) {
      if (!sameElements(e.inputs[i] ?? [], inputs[i] ?? [])) return undefined;
    }
    return e.body;
  }

  set(
    key: string,
    stamp: string,
    inputs: readonly (readonly unknown[])[],
    body: SerializedBody,
  ): void {
    this.#drop(key);
    for (const [k, e] of this.#entries) if (e.stamp !== stamp) this.#drop(k);
    this.#entries.set(key, { stamp, inputs, body });
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#entries.clear();
      this.#chars = 0;
    }, this.#keepMs);
    this.#timer.unref();
    this.#chars += body.text.length;
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= 1) break;
      if (this.#entries.size <= this.#maxEntries && this.#chars <= this.#maxChars) break;
      this.#drop(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  #drop(key: string): void {
    const e = this.#entries.get(key);
    if (!e) return;
    this.#chars -= e.body.text.length;
    this.#entries.delete(key);
  }
}
