/**
 * @module providers/arrival-ticket
 * What a provider may do with the ticket the server hands a request as it arrives
 * (server/arrivals.ts), which comes with the provider call: spend it once the request reaches the
 * query step, and wait for peers already received. Only the interface lives here, below both
 * sides: providers use tickets without importing the server, and the server takes them without
 * knowing providers. Each API group supplies the key its requests wait under
 * (apis/custom-metrics.ts: `<resource>/<metric>`).
 */

/** A request on its way; `seq` orders requests by the time they entered. */
export interface Ticket {
  readonly key: string;
  readonly seq: number;
}

export interface ArrivalTickets {
  /** Spends a ticket (idempotent): its request reached the query step, or ended. */
  spend(ticket: Ticket): void;
  /**
   * Resolves when no request for `key` that entered before `seq` is still on its way, or after
   * the server's cap; undefined at once when none is.
   */
  peers(key: string, seq: number): Promise<void> | undefined;
  /** The `seq` the next request to enter will get: every request already received has a lower one. */
  next(): number;
}
