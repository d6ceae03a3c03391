/**
 * @module providers/prometheus/next-batch
 * Batches calls per key without a timer, in the manner of DataLoader but paced by the work itself:
 * a call for a key with nothing in flight is sent at once, alone; calls that arrive while a send
 * for their key is in flight wait for it to finish and then go out together in the next send. A
 * lone call is never delayed, a waiting call waits at most for one send before its own starts, and
 * every send starts after each of its calls arrived (so its answers are never older than a call).
 *
 * An optional gate may hold a send back briefly (arrivals.ts: until peers known to be on their
 * way have arrived); calls arriving meanwhile join that send.
 */

interface Waiting<T, R> {
  readonly item: T;
  readonly resolve: (r: R) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Sends `items` (in arrival order) and settles each: one result per item, in the same order. A
 * rejection of the whole send rejects every item with that error.
 */
export type SendBatch<T, R> = (
  key: string,
  items: readonly T[],
) => Promise<readonly PromiseSettledResult<R>[]>;

/** Resolves when a send with these items may start; `undefined`: at once. */
export type BatchGate<T> = (key: string, items: readonly T[]) => Promise<void> | undefined;

export class NextBatch<T, R> {
  readonly #send: SendBatch<T, R>;
  readonly #gate: BatchGate<T> | undefined;
  /** Keys with a send in flight or held by the gate, and the calls waiting for the next one. */
  readonly #queues = new Map<string, Waiting<T, R>[]>();
  /** Sends held by the gate, which calls arriving meanwhile join. */
  readonly #gathering = new Map<string, Waiting<T, R>[]>();

  constructor(send: SendBatch<T, R>, gate?: BatchGate<T>) {
    this.#send = send;
    this.#gate = gate;
  }

  load(key: string, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const w: Waiting<T, R> = { item, resolve, reject };
      const target = this.#gathering.get(key) ?? this.#queues.get(key);
      if (target) target.push(w);
      else this.#start(key, [w]);
    });
  }

  /** Keys with a send in flight (for tests). */
  get active(): number {
    return this.#queues.size;
  }

  #start(key: string, batch: Waiting<T, R>[]): void {
    this.#queues.set(key, []);
    const held = this.#gate?.(
      key,
      batch.map((w) => w.item),
    );
    if (!held) {
      this.#launch(key, batch);
      return;
    }
    this.#gathering.set(key, batch);
    void held.then(() => {
      this.#gathering.delete(key);
      this.#launch(key, batch);
    });
  }

  #launch(key: string, batch: readonly Waiting<T, R>[]): void {
    void this.#run(key, batch).finally(() => {
      const next = this.#queues.get(key) ?? [];
      if (next.length > 0) this.#start(key, next);
      else this.#queues.delete(key);
    });
  }

  async #run(key: string, batch: readonly Waiting<T, R>[]): Promise<void> {
    let results: readonly PromiseSettledResult<R>[];
    try {
      results = await this.#send(
        key,
        batch.map((w) => w.item),
      );
    } catch (e) {
      for (const w of batch) w.reject(e);
      return;
    }
    batch.forEach((w, i) => {
      const r = results[i];
      if (r === undefined) w.reject(new Error("batch send returned too few results"));
      else if (r.status === "fulfilled") w.resolve(r.value);
      else w.reject(r.reason);
    });
  }
}
