/**
 * @module auth/ttl-cache
 * A small expiring cache for TokenReview and SubjectAccessReview answers. Bounded, so a flood of
 * distinct tokens cannot grow memory without limit; the oldest entry goes first.
 *
 * Each entry also remembers when it was asked for, so an owner can refresh the entries in use
 * before they are needed again ({@link TtlCache.dueForRefresh}). A refresh never extends an
 * answer: the owner asks again and stores the new answer with a new TTL; an entry that is not
 * replaced in time expires as any other. With `keepExpired`, an expired entry stays (answering
 * nothing) while it is still in use, so its use history can time a refresh before its next use.
 */
import type { Clock } from "./types.ts";

/**
 * Uses of a key closer together than this are one burst (HPAs of a namespace asking the same at
 * their common resync); the gaps between bursts give the key's period of use (Entry.periodMs).
 */
export const BURST_MS = 1_000;

interface Entry<V> {
  readonly value: V;
  readonly ttlMs: number;
  readonly expiresAt: number;
  /** When a caller last asked for this key (a hit, or the request that caused the answer). */
  lastUsedAt: number;
  /** When the last burst of uses began, and the time from the burst before (once known). */
  burstAt: number;
  gapMs: number | undefined;
  /**
   * The shorter of the last two gaps between bursts: a key several callers ask at different
   * phases has uneven gaps, and expecting its next use early costs a refresh, late a request.
   */
  periodMs: number | undefined;
}

/** When to refresh an entry, from its TTL: how long before expiry, and how long unused at most. */
export interface RefreshPolicy {
  /** Refresh once the entry has less than this left to live (or this before an expected use). */
  readonly leadMs: (ttlMs: number) => number;
  /** Refresh only entries asked for within this long. */
  readonly idleMs: (ttlMs: number) => number;
}

export class TtlCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #maxEntries: number;
  readonly #now: Clock;
  readonly #keepExpired: boolean;

  /**
   * `keepExpired`: expired entries stay for their use history until {@link dueForRefresh} sweeps
   * them (the owner calls it periodically); otherwise they go when found expired.
   */
  constructor(maxEntries = 4096, now: Clock = Date.now, keepExpired = false) {
    this.#maxEntries = maxEntries;
    this.#now = now;
    this.#keepExpired = keepExpired;
  }

  /** The live answer for `key`, if any; counts as a use of the entry, live or expired. */
  get(key: string): V | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    const now = this.#now();
    if (now - e.burstAt >= BURST_MS) {
      const gap = now - e.burstAt;
      e.periodMs = e.gapMs === undefined ? gap : Math.min(gap, e.gapMs);
      e.gapMs = gap;
      e.burstAt = now;
    }
    e.lastUsedAt = now;
    if (now >= e.expiresAt) {
      if (!this.#keepExpired) this.#entries.delete(key);
      return undefined;
    }
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
    const now = this.#now();
    const before = this.#entries.get(key);
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    const used = lastUsedAt ?? now;
    this.#entries.set(key, {
      value,
      ttlMs,
      expiresAt: now + ttlMs,
      lastUsedAt: used,
      // A new answer keeps the key's use history.
      burstAt: before?.burstAt ?? used,
      gapMs: before?.gapMs,
      periodMs: before?.periodMs,
    });
  }

  /** Whether `key` has an entry that `policy` wants refreshed now. */
  isDueForRefresh(key: string, policy: RefreshPolicy): boolean {
    const e = this.#entries.get(key);
    return e !== undefined && this.#due(e, this.#now(), policy);
  }

  /**
   * The keys of entries asked for within `idleMs` that need an answer soon: soonest first.
   *
   * - A key whose period of use is known is refreshed when its next expected use is near: within
   *   `leadMs` of its expiry if that refresh's answer lives to a use past this one's expiry, or,
   *   once expired, within `leadMs` before its next expected use. So a key used every 15 s with a
   *   10 s TTL costs one review per use, as upstream, none of them on a request's path.
   * - Any other key in use is refreshed within `leadMs` of its expiry.
   *
   * Sweeps entries expired and idle (or all expired ones, without `keepExpired`) on the way.
   */
  dueForRefresh(policy: RefreshPolicy): string[] {
    const now = this.#now();
    const due: [string, number][] = [];
    for (const [key, e] of this.#entries) {
      const idle = now - e.lastUsedAt > policy.idleMs(e.ttlMs);
      if (now >= e.expiresAt && (idle || !this.#keepExpired)) {
        this.#entries.delete(key);
        continue;
      }
      if (this.#due(e, now, policy)) due.push([key, e.expiresAt]);
    }
    return due.sort((a, b) => a[1] - b[1]).map(([key]) => key);
  }

  #due(e: Entry<V>, now: number, policy: RefreshPolicy): boolean {
    const lead = policy.leadMs(e.ttlMs);
    if (now - e.lastUsedAt > policy.idleMs(e.ttlMs)) return false;
    const live = now < e.expiresAt;
    if (e.periodMs === undefined) return live && e.expiresAt - now <= lead;
    if (live) {
      // Near expiry: worth it only if the new answer lives to a use this one does not reach.
      return (
        e.expiresAt - now <= lead && nextUse(e.burstAt, e.periodMs, e.expiresAt) <= now + e.ttlMs
      );
    }
    return nextUse(e.burstAt, e.periodMs, now) - now <= lead;
  }

  /** Live entries and, with `keepExpired`, expired ones still in use. */
  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** The first use at or after `t` of a key used every `periodMs` since `burstAt`. */
function nextUse(burstAt: number, periodMs: number, t: number): number {
  if (t <= burstAt) return burstAt;
  return burstAt + Math.ceil((t - burstAt) / periodMs) * periodMs;
}
