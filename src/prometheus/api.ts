/**
 * @module prometheus/api
 * What the adapter asks of a Prometheus server, as an interface: providers depend on it rather
 * than on the HTTP client (client.ts implements it), so their unit tests run against
 * fake-prometheus.ts. Creating clients, tenant views and closing them stay with their owners
 * (server/builders, providers/prometheus/backends.ts), which hold the concrete client.
 */
import type { Labels, QueryResult } from "./api-types.ts";

export interface PrometheusApi {
  /** The server's base URL without credentials, for logs: which server answered. */
  readonly server: string;
  /** The tenant this client sends (backends.ts), or undefined. */
  readonly tenant: string | undefined;
  /** An instant query at `time` (default now). */
  query(promql: string, time?: Date): Promise<QueryResult>;
  /** `/api/v1/series`: the label sets of series matching any of `matches` in [start, end]. */
  series(matches: readonly string[], start?: Date, end?: Date): Promise<Labels[]>;
  /** `/api/v1/labels`: label names, restricted to series matching `matches` when given. */
  labelNames(matches?: readonly string[], start?: Date, end?: Date): Promise<string[]>;
  /** `/api/v1/label/<label>/values`, restricted to series matching `matches` when given. */
  labelValues(
    label: string,
    matches?: readonly string[],
    start?: Date,
    end?: Date,
  ): Promise<string[]>;
}
