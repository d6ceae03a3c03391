/**
 * @module server/max-in-flight
 * The generic apiserver's `--max-requests-inflight` (k8s.io/apiserver pkg/server/filters/
 * maxinflight.go): at most N authenticated requests are served at once (the place taken before authorization); one past it gets 429 "Too
 * many requests, please try again later." with `Retry-After: 1`, in plain text as Go's
 * http.Error writes it, and members of system:masters are never refused. Without it, requests
 * waiting on a slow Prometheus pile up until the heap is gone: an open-loop 10,000-HPA fleet ran
 * the image's 96 MiB heap out of memory in 25 s while Prometheus took 10 s a query.
 */
import type { Response } from "./api-server.ts";

/** kube-apiserver's default for read requests (all of ours are reads). */
export const DEFAULT_MAX_REQUESTS_INFLIGHT = 400;

const SYSTEM_MASTERS = "system:masters";

export const TOO_MANY_REQUESTS = "Too many requests, please try again later.\n";

export class InFlightLimit {
  readonly #limit: number;
  #current = 0;
  #refused = 0;

  /** `limit` 0: no limit, as the flag's 0. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  get current(): number {
    return this.#current;
  }

  /** Requests refused so far. */
  get refused(): number {
    return this.#refused;
  }

  /**
   * Takes a place for a request of a user in `groups`: a function that gives it back (call it once,
   * when the response ends), or undefined when the server is full and the request must get 429.
   */
  enter(groups: readonly string[]): (() => void) | undefined {
    if (this.#limit === 0 || groups.includes(SYSTEM_MASTERS)) return () => undefined;
    if (this.#current >= this.#limit) {
      this.#refused++;
      return undefined;
    }
    this.#current++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.#current--;
    };
  }
}

/** The 429 the generic apiserver writes (tooManyRequests in maxinflight.go). */
export function refuseTooMany(res: Response): void {
  res.statusCode = 429;
  res.setHeader("Retry-After", "1");
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.end(TOO_MANY_REQUESTS);
}
