/**
 * @module auth/ttl-cache
 * A small expiring cache for TokenReview and SubjectAccessReview answers. Bounded, so a flood of
 * distinct tokens cannot grow memory without limit; the oldest entry goes first.
 *
 * Each entry also remembers when it was last asked for, so an owner can refresh the entries in
 * use before they expire ({@link TtlCache.dueForRefresh}). A refresh never extends an answer: the
 * owner asks again and stores the new answer with a new TTL; an entry that is not replaced in
 * time expires as any other.
 */
import type { Clock } from "./types.ts";

interface Entry<V> {
  readonly value: V;
  readonly ttlMs: number;
  readonly expiresAt: number;
  /** When a caller last asked for this key (a hit, or the request that caused the answer). */
  lastUsedAt: number;
}

/** When to refresh an entry, from its TTL: how long before expiry, and how long unused at most. */
export interface RefreshPolicy {
  /** Refresh once the entry has less than this left to live. */
  readonly leadMs: (ttlMs: number) => number;
  /** Refresh only entries asked for within this long. */
  readonly idleMs: (ttlMs: number) => number;
}

export class TtlCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #maxEntries: number;
  readonly #now: Clock;

  constructor(maxEntries = 4096, now: Clock = Date.now) {
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  /** The live answer for `key`, if any; counts as a use of the entry. */
  get(key: string): V | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    const now = this.#now();
    if (now >= e.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    e.lastUsedAt = now;
    return e.value;
  }

  /** When `key` was last asked for, if it has an entry (live or not yet swept). */
  lastUsedAt(key: string): number | undefined {
    return this.#entries.get(key)?.lastUsedAt;
  }

  /**
   * A TTL of zero or less stores nothing (caching off). `lastUsedAt` defaults to now (the answer
   * was asked for by a request); a refresh passes the replaced entry's.
   */
  set(key: string, value: V, ttlMs: number, lastUsedAt?: number): void {
    if (ttlMs <= 0) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    const now = this.#now();
    this.#entries.set(key, {
      value,
      ttlMs,
      expiresAt: now + ttlMs,
      lastUsedAt: lastUsedAt ?? now,
    });
  }

  /** Whether `key` still has a live entry that `policy` wants refreshed now. */
  isDueForRefresh(key: string, policy: RefreshPolicy): boolean {
    const e = this.#entries.get(key);
    return e !== undefined && this.#due(e, this.#now(), policy);
  }

  /**
   * The keys of live entries within `leadMs` of expiry that were asked for within `idleMs`,
   * soonest expiry first. Sweeps expired entries on the way.
   */
  dueForRefresh(policy: RefreshPolicy): string[] {
    const now = this.#now();
    const due: [string, number][] = [];
    for (const [key, e] of this.#entries) {
      if (now >= e.expiresAt) {
        this.#entries.delete(key);
        continue;
      }
      if (this.#due(e, now, policy)) due.push([key, e.expiresAt]);
    }
    return due.sort((a, b) => a[1] - b[1]).map(([key]) => key);
  }

  #due(e: Entry<V>, now: number, policy: RefreshPolicy): boolean {
    return (
      now < e.expiresAt &&
      e.expiresAt - now <= policy.leadMs(e.ttlMs) &&
      now - e.lastUsedAt <= policy.idleMs(e.ttlMs)
    );
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}
