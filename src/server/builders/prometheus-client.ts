/**
 * @module server/builders/prometheus-client
 * The one Prometheus client every provider shares, counting its requests in the adapter's
 * metrics. Creating it checks the URL and reads the token and TLS files (usage errors).
 */
import type { AdapterMetrics } from "../../observability/metrics.ts";
import { PrometheusClient } from "../../prometheus/client.ts";
import type { PrometheusConfig } from "../options/prometheus.ts";

export function buildPrometheusClient(
  c: PrometheusConfig["client"],
  metrics: AdapterMetrics,
): Promise<PrometheusClient> {
  return PrometheusClient.create({
    ...c,
    onRequest: (endpoint, ms, outcome) => {
      metrics.prometheusRequest(endpoint, ms / 1000, outcome);
    },
  });
}
