/**
 * @module providers/prometheus/last-good
 * Last good answers for rules with `k8sCustomMetrics.lastGoodValueFor`: kept per request key,
 * handed back while Prometheus cannot answer and the answer is young enough. Bounded in size;
 * entries past the longest allowed age are dropped as new ones come in.
 */
import { isPrometheusError } from "../../prometheus/errors.ts";

/** Most entries kept; the oldest go first (an HPA fleet needs far fewer). */
const MAX_ENTRIES = 100_000;

interface Entry<T> {
  readonly value: T;
  readonly at: number;
  readonly maxAgeMs: number;
}

export class LastGood<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #max: number;
  #puts = 0;

  constructor(maxEntries = MAX_ENTRIES) {
    this.#max = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  put(key: string, value: T, maxAgeMs: number, now: number): void {
    // Re-inserted so the map stays ordered by age: eviction takes the first keys.
    this.#entries.delete(key);
    this.#entries.set(key, { value, at: now, maxAgeMs });
    if (++this.#puts % 1024 === 0) this.#sweep(now);
    while (this.#entries.size > this.#max) {
      const first = this.#entries.keys().next();
      if (first.done === true) break;
      this.#entries.delete(first.value);
    }
  }

  /** The value stored under `key` if it is at most its allowed age, with its time. */
  get(key: string, now: number): { value: T; at: number } | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (now - e.at > e.maxAgeMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return { value: e.value, at: e.at };
  }

  #sweep(now: number): void {
    for (const [k, e] of this.#entries) if (now - e.at > e.maxAgeMs) this.#entries.delete(k);
  }
}

/**
 * Whether a failed query is Prometheus being unavailable (down, slow, overloaded, a failing proxy)
 * rather than the query being wrong: only then may a last good value stand in.
 */
export function isOutage(e: unknown): boolean {
  for (let c: unknown = e, depth = 0; c !== undefined && depth < 5; depth++) {
    if (isPrometheusError(c)) {
      if (c.kind === "bad_response") {
        return c.httpStatus === undefined || c.httpStatus >= 500 || c.httpStatus === 429;
      }
      if (c.kind !== "api_error") return true;
      return (
        c.errorType === "timeout" || c.errorType === "unavailable" || c.errorType === "internal"
      );
    }
    c = c instanceof Error ? c.cause : undefined;
  }
  return false;
}

/** At most one log line per rule and interval while last good values stand in. */
export class ThrottledLog {
  readonly #last = new Map<string, number>();
  readonly #intervalMs: number;

  constructor(intervalMs = 30_000) {
    this.#intervalMs = intervalMs;
  }

  /** Whether to log for `key` now (and records that it did). */
  take(key: string, now: number): boolean {
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.#intervalMs) return false;
    if (this.#last.size > 10_000) this.#last.clear();
    this.#last.set(key, now);
    return true;
  }
}
