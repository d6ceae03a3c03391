/**
 * @module providers/prometheus/fetch
 * One Prometheus query on behalf of an API request: failures are logged with the query and become
 * upstream's opaque 500 "unable to fetch metrics", so no backend detail leaks to API clients.
 */
import { internalError, StatusError } from "../../apimachinery/status.ts";
import type { Logger } from "../../observability/logger.ts";
import type { PrometheusClient, QueryResult } from "../../prometheus/client.ts";

export async function queryOrFail(
  prometheus: PrometheusClient,
  log: Logger,
  query: string,
): Promise<QueryResult> {
  // Which server (and tenant) answered, for logs at --v=2 and in every failure.
  const via = {
    server: prometheus.server,
    ...(prometheus.tenant === undefined ? {} : { tenant: prometheus.tenant }),
  };
  try {
    const r = await prometheus.query(query);
    log.debug({ ...via, query }, "prometheus answered");
    return r;
  } catch (e) {
    log.error({ err: String(e), query, ...via }, "unable to fetch metrics from prometheus");
    throw new StatusError(internalError("unable to fetch metrics"), { cause: e });
  }
}
