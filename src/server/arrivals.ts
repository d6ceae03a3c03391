/**
 * @module server/arrivals
 * Which API requests are still on their way to the query step (being authenticated, authorized,
 * having their objects listed), per key. An HPA fleet's resync sends many requests for one metric
 * at the same moment, but they reach the query step spread over the time their
 * SubjectAccessReviews take; query grouping alone would then send several queries for what is one
 * burst. With arrivals, a batch about to be sent first waits — briefly, and only for requests
 * already received when it was about to go — for those peers to join it.
 *
 * A generic server facility: each API group supplies the key its requests wait under (an
 * {@link ArrivalKeyOf}; apis/custom-metrics.ts keys by resource and metric), the server takes a
 * ticket when such a request enters and hands it along with the request (the API request's
 * `ticket`, then the provider call), and providers use it through providers/arrival-ticket.ts, the
 * interface both sides share, without the server being imported below it. A ticket is spent when
 * its request reaches the query step, or when it ends.
 *
 * Handed along rather than kept in an AsyncLocalStorage: on Node.js 20 a store puts promise hooks
 * on every promise of the process, about a fifth of the CPU of a request the adapter answers from
 * its caches.
 */
import type { RequestTarget } from "../apimachinery/request-target.ts";
import type { ArrivalTickets, Ticket } from "../providers/arrival-ticket.ts";

export type { Ticket } from "../providers/arrival-ticket.ts";

/** An API group's waiting key for a request it serves; undefined: the request takes no ticket. */
export type ArrivalKeyOf = (target: RequestTarget) => string | undefined;

export class Arrivals implements ArrivalTickets {
  /** Unspent tickets by key. */
  readonly #pending = new Map<string, Set<number>>();
  /** Called whenever a ticket of the key is spent. */
  readonly #listeners = new Map<string, Set<() => void>>();
  readonly #capMs: number;
  readonly #keys: readonly ArrivalKeyOf[];
  #seq = 0;

  /** `capMs`: the longest a batch waits for its peers; `keys`: the API groups' keys. */
  constructor(capMs: number, keys: readonly ArrivalKeyOf[] = []) {
    this.#capMs = capMs;
    this.#keys = keys;
  }

  /** The key an API group gives `target`, if any. */
  keyOf(target: RequestTarget): string | undefined {
    for (const k of this.#keys) {
      const key = k(target);
      if (key !== undefined) return key;
    }
    return undefined;
  }

  /**
   * Runs `serve` with a ticket when an API group keys `target` (spent when `res` closes at the
   * latest), otherwise with none.
   */
  admit(
    target: RequestTarget,
    res: { once(event: "close", listener: () => void): unknown },
    serve: (ticket: Ticket | undefined) => void,
  ): void {
    const key = this.keyOf(target);
    if (key === undefined) {
      serve(undefined);
      return;
    }
    const ticket = this.take(key);
    res.once("close", () => {
      this.spend(ticket);
    });
    serve(ticket);
  }

  /** A ticket for a request for `key` entering now. */
  take(key: string): Ticket {
    const ticket = { key, seq: ++this.#seq };
    let set = this.#pending.get(key);
    if (!set) this.#pending.set(key, (set = new Set()));
    set.add(ticket.seq);
    return ticket;
  }

  next(): number {
    return this.#seq + 1;
  }

  /** Spends a ticket (idempotent): its request reached the query step, or ended. */
  spend(ticket: Ticket): void {
    const set = this.#pending.get(ticket.key);
    if (!set?.delete(ticket.seq)) return;
    if (set.size === 0) this.#pending.delete(ticket.key);
    for (const l of this.#listeners.get(ticket.key) ?? []) l();
  }

  /** Whether a request for `key` that entered before `seq` has not reached the query step. */
  ahead(key: string, seq: number): boolean {
    for (const s of this.#pending.get(key) ?? []) if (s < seq) return true;
    return false;
  }

  /**
   * Resolves when no request for `key` that entered before `seq` is still on its way, or after
   * the cap; at once when none is.
   */
  peers(key: string, seq: number): Promise<void> | undefined {
    if (!this.ahead(key, seq)) return undefined;
    return new Promise<void>((resolve) => {
      let listeners = this.#listeners.get(key);
      if (!listeners) this.#listeners.set(key, (listeners = new Set()));
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
        if (listeners.size === 0) this.#listeners.delete(key);
        resolve();
      };
      const check = () => {
        if (!this.ahead(key, seq)) done();
      };
      const timer = setTimeout(done, this.#capMs);
      listeners.add(check);
    });
  }
}
