/**
 * @module providers/prometheus/next-batch
 * Batches calls per key without a timer, in the manner of DataLoader but paced by the work itself:
 * a call for a key with nothing in flight is sent at once, alone; calls that arrive while a send
 * for their key is in flight wait for it to finish and then go out together in the next send. A
 * lone call is never delayed, a waiting call waits at most for one send before its own starts, and
 * every send starts after each of its calls arrived (so its answers are never older than a call).
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

export class NextBatch<T, R> {
  readonly #send: SendBatch<T, R>;
  /** Keys with a send in flight, and the calls waiting for the next one. */
  readonly #queues = new Map<string, Waiting<T, R>[]>();

  constructor(send: SendBatch<T, R>) {
    this.#send = send;
  }

  load(key: string, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const w: Waiting<T, R> = { item, resolve, reject };
      const queue = this.#queues.get(key);
      if (queue) queue.push(w);
      else this.#start(key, [w]);
    });
  }

  /** Keys with a send in flight (for tests). */
  get active(): number {
    return this.#queues.size;
  }

  #start(key: string, batch: readonly Waiting<T, R>[]): void {
    this.#queues.set(key, []);
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
