/**
 * @module test/chaos/hpa-load
 * HPA-shaped load for the fault suite: the seed HPA's own request (`pods/*` with its label
 * selector, custom.metrics.k8s.io v1beta2) sent to the kube-apiserver, so through the aggregator,
 * at a fixed rate, open loop (a request goes out on time whether or not earlier ones are back),
 * each with a 30 s timeout. Every request is recorded: start, duration, outcome.
 */
import type { KubeAdmin } from "./observe.ts";

export interface LoadRecord {
  /** ms since the epoch. */
  readonly start: number;
  readonly ms: number;
  /** HTTP status as text ("200", "503"), or the socket error ("ECONNREFUSED", "timeout"). */
  readonly outcome: string;
  readonly ok: boolean;
}

export class HpaLoad {
  readonly records: LoadRecord[] = [];
  #inFlight = 0;
  /** Start times of the requests in flight. */
  readonly #pending = new Set<number>();
  readonly #timer: NodeJS.Timeout;
  readonly #idle: (() => void)[] = [];

  constructor(kube: KubeAdmin, path: string, ratePerSecond: number) {
    const send = () => {
      const start = Date.now();
      this.#inFlight++;
      this.#pending.add(start);
      kube.get(path).then(
        (r) => {
          const items = r.status === 200 ? (JSON.parse(r.body) as { items?: unknown[] }).items : [];
          // The HPA needs a value for its pod: an empty list is a failure for it too.
          const ok = r.status === 200 && (items?.length ?? 0) > 0;
          this.#done({
            start,
            ms: Date.now() - start,
            outcome: ok ? "200" : r.status === 200 ? "200-empty" : String(r.status),
            ok,
          });
        },
        (e: unknown) => {
          const code =
            (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
          this.#done({ start, ms: Date.now() - start, outcome: code, ok: false });
        },
      );
    };
    this.#timer = setInterval(send, Math.max(1, Math.round(1000 / ratePerSecond)));
  }

  #done(r: LoadRecord): void {
    this.records.push(r);
    this.#pending.delete(r.start);
    this.#inFlight--;
    if (this.#inFlight === 0) for (const f of this.#idle.splice(0)) f();
  }

  /** Records of requests that started in [from, to). */
  between(from: number, to: number): LoadRecord[] {
    return this.records.filter((r) => r.start >= from && r.start < to);
  }

  /** Waits (at most 35 s) until every request that started before `time` has ended. */
  async settled(time: number): Promise<void> {
    const deadline = Date.now() + 35_000;
    while ([...this.#pending].some((s) => s < time) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Stops sending and waits (at most 35 s) for the requests in flight. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#inFlight === 0) return;
    await Promise.race([
      new Promise<void>((resolve) => this.#idle.push(resolve)),
      new Promise((resolve) => setTimeout(resolve, 35_000).unref()),
    ]);
  }
}
