/**
 * @module providers/prometheus/external-provider
 * external.metrics.k8s.io from Prometheus (prometheus-adapter pkg/external-provider/provider.go):
 * every sample of the query is one item, labels and timestamp included.
 */
import type { Requirement } from "../../apimachinery/label-selector.ts";
import { internalError, notFound } from "../../apimachinery/status.ts";
import type { Logger } from "../../observability/logger.ts";
import {
  StatusError,
  type ExternalMetricInfo,
  type ExternalMetricValue,
  type ExternalMetricsProvider,
} from "../types.ts";
import type { PrometheusClient } from "./client.ts";
import { queryOrFail } from "./fetch.ts";
import { buildExternalQuery } from "./query-builder.ts";
import type { ExternalRegistry } from "./registry.ts";

export interface PrometheusExternalProviderDeps {
  readonly prometheus: PrometheusClient;
  readonly registry: () => ExternalRegistry;
  readonly log: Logger;
}

export class PrometheusExternalProvider implements ExternalMetricsProvider {
  readonly #d: PrometheusExternalProviderDeps;

  constructor(deps: PrometheusExternalProviderDeps) {
    this.#d = deps;
  }

  listAllExternalMetrics(): readonly ExternalMetricInfo[] {
    return this.#d.registry().list();
  }

  async getExternalMetric(
    namespace: string,
    metricSelector: readonly Requirement[],
    info: ExternalMetricInfo,
  ): Promise<ExternalMetricValue[]> {
    const entry = this.#d.registry().get(info.metric);
    if (!entry) {
      // Upstream's message names "namespaces" only for the default namespace (a quirk kept as is).
      const what = namespace === "default" ? "namespaces" : "";
      throw new StatusError(
        notFound(`the server could not find the metric ${info.metric} for ${what}`),
      );
    }
    let query: string;
    try {
      query = buildExternalQuery(entry.rule.metricsQuery, entry.rule.resources, {
        series: entry.seriesName,
        namespace,
        metricSelector,
        namespaced: entry.rule.namespaced,
      });
    } catch (e) {
      this.#d.log.warn(
        { err: String(e), metric: info.metric, rule: entry.rule.origin },
        "unable to build external query",
      );
      throw new StatusError(internalError("unable to fetch metrics"), { cause: e });
    }
    const result = await queryOrFail(this.#d.prometheus, this.#d.log, query);
    switch (result.resultType) {
      case "vector":
        return result.result.map((s) => ({
          metricName: info.metric,
          metricLabels: s.metric,
          timestamp: new Date(s.value[0] * 1000),
          value: s.value[1],
        }));
      case "scalar":
        return [
          {
            metricName: info.metric,
            metricLabels: null,
            timestamp: new Date(result.result[0] * 1000),
            value: result.result[1],
          },
        ];
      case "matrix":
      case "string":
        this.#d.log.error(
          { query, resultType: result.resultType },
          "unexpected result type from prometheus",
        );
        throw new StatusError(internalError("unable to fetch metrics"));
    }
  }
}
