/**
 * @module prometheus/fake-prometheus
 * The one stand-in for Prometheus in unit tests: a {@link PrometheusApi} that records what it is
 * asked and answers from the handlers it was given (an empty answer by default). Tests that need
 * the HTTP exchange itself use a real server (test/e2e/prometheus-client.test.ts).
 */
import type { PrometheusApi } from "./api.ts";
import type { Labels, QueryResult, VectorSample } from "./api-types.ts";

/** A handler's answer: the result, or an error the call rejects with. */
type Answer<T> = T | Error;

export interface FakePrometheusOptions {
  /** Default `http://fake-prometheus`. */
  readonly server?: string;
  readonly tenant?: string;
  readonly query?: (promql: string, time: Date | undefined) => Answer<QueryResult>;
  readonly series?: (matches: readonly string[]) => Answer<Labels[]>;
  readonly labelNames?: (matches: readonly string[]) => Answer<string[]>;
  readonly labelValues?: (label: string, matches: readonly string[]) => Answer<string[]>;
  /**
   * Answer on a later turn of the event loop (setImmediate) rather than the next microtask, so
   * callers that start at the same time overlap as they do against a real server.
   */
  readonly later?: boolean;
}

/** An instant-query vector of `samples`, as the client decodes it. */
export function vectorResult(samples: readonly VectorSample[]): QueryResult {
  return { resultType: "vector", result: samples, warnings: [] };
}

export class FakePrometheus implements PrometheusApi {
  readonly server: string;
  readonly tenant: string | undefined;
  /** The PromQL of every query, in the order asked. */
  readonly queries: string[] = [];
  /** Every discovery request (series, labels, label values) and its selectors, in order. */
  readonly requests: { readonly endpoint: string; readonly matches: readonly string[] }[] = [];
  readonly #o: FakePrometheusOptions;

  constructor(o: FakePrometheusOptions = {}) {
    this.#o = o;
    this.server = o.server ?? "http://fake-prometheus";
    this.tenant = o.tenant;
  }

  query(promql: string, time?: Date): Promise<QueryResult> {
    this.queries.push(promql);
    return this.#answer(() => this.#o.query?.(promql, time) ?? vectorResult([]));
  }

  series(matches: readonly string[]): Promise<Labels[]> {
    this.requests.push({ endpoint: "series", matches });
    return this.#answer(() => this.#o.series?.(matches) ?? []);
  }

  labelNames(matches: readonly string[] = []): Promise<string[]> {
    this.requests.push({ endpoint: "labels", matches });
    return this.#answer(() => this.#o.labelNames?.(matches) ?? []);
  }

  labelValues(label: string, matches: readonly string[] = []): Promise<string[]> {
    this.requests.push({ endpoint: "label_values", matches });
    return this.#answer(() => this.#o.labelValues?.(label, matches) ?? []);
  }

  /** Runs the handler when the answer is due (at once, or with `later` on that turn). */
  #answer<T>(handler: () => Answer<T>): Promise<T> {
    const settle = (): Promise<T> => {
      const a = handler();
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    };
    if (!this.#o.later) return settle();
    return new Promise<void>((resolve) => setImmediate(resolve)).then(settle);
  }
}
