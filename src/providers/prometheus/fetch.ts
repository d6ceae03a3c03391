/**
 * @module providers/prometheus/fetch
 * The one way a provider runs a Prometheus query on behalf of an API request: failures are logged
 * with the query and become upstream's opaque 500 "unable to fetch metrics", so no backend detail
 * leaks to API clients; {@link queryVector} also holds the one check that the answer is a vector.
 */
import { internalError, StatusError } from "../../apimachinery/status.ts";
import type { Logger } from "../../observability/logger.ts";
import type { PrometheusApi } from "../../prometheus/api.ts";
import type { QueryResult, VectorSample } from "../../prometheus/api-types.ts";

export interface QueryOptions {
  /**
   * Failures the caller recovers from itself (query grouping retries a grouped query refused for
   * its size with smaller ones): rethrown as they are, not logged as failures.
   */
  readonly recovers?: (e: unknown) => boolean;
}

/** Which server (and tenant) answered, for logs at --v=2 and in every failure. */
function via(prometheus: PrometheusApi): { server: string; tenant?: string } {
  return {
    server: prometheus.server,
    ...(prometheus.tenant === undefined ? {} : { tenant: prometheus.tenant }),
  };
}

export async function queryOrFail(
  prometheus: PrometheusApi,
  log: Logger,
  query: string,
  o: QueryOptions = {},
): Promise<QueryResult> {
  try {
    const r = await prometheus.query(query);
    log.debug({ ...via(prometheus), query }, "prometheus answered");
    return r;
  } catch (e) {
    if (o.recovers?.(e) === true) throw e;
    log.error(
      { err: String(e), query, ...via(prometheus) },
      "unable to fetch metrics from prometheus",
    );
    throw new StatusError(internalError("unable to fetch metrics"), { cause: e });
  }
}

/** {@link queryOrFail} for queries that must answer a vector (custom metrics): its samples. */
export async function queryVector(
  prometheus: PrometheusApi,
  log: Logger,
  query: string,
  o: QueryOptions = {},
): Promise<readonly VectorSample[]> {
  const result = await queryOrFail(prometheus, log, query, o);
  if (result.resultType !== "vector") {
    log.error({ query, resultType: result.resultType }, "expected a vector from prometheus");
    throw new StatusError(internalError("unable to fetch metrics"));
  }
  return result.result;
}
