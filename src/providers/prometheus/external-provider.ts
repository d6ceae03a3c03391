/**
 * @module providers/prometheus/external-provider
 * external.metrics.k8s.io from Prometheus (prometheus-adapter pkg/external-provider/provider.go):
 * every sample of the query is one item, labels and timestamp included.
 */
import type { Requirement } from "../../apimachinery/label-selector.ts";
import { internalError, StatusError } from "../../apimachinery/status.ts";
import { externalMetricNotFound } from "../errors.ts";
import { NO_DATA_OPTIONS } from "../../config/data-options.ts";
import type { Logger } from "../../observability/logger.ts";
import { countDataAnswer } from "../../observability/metrics.ts";
import {
  type ExternalMetricInfo,
  type ExternalMetricValue,
  type ExternalMetricsProvider,
} from "../types.ts";
import type { PrometheusApi } from "../../prometheus/api.ts";
import type { RuleClients } from "./backends.ts";
import { queryOrFail } from "./fetch.ts";
import { buildExternalQuery } from "./query-builder.ts";
import type { ExternalRegistry } from "./registry.ts";
import { isOutage, LastGood, ThrottledLog } from "./last-good.ts";

export interface PrometheusExternalProviderDeps {
  readonly prometheus: PrometheusApi;
  readonly registry: () => ExternalRegistry;
  readonly log: Logger;
  readonly now?: () => Date;
  /** Rules' own servers and tenants (backends.ts); without it every query goes to `prometheus`. */
  readonly backends?: RuleClients;
  /** What discovery found for a tenant (with `backends`); default: `registry`. */
  readonly registryFor?: (tenant: string | undefined) => ExternalRegistry;
}

export class PrometheusExternalProvider implements ExternalMetricsProvider {
  readonly #d: PrometheusExternalProviderDeps;
  readonly #lastGood = new LastGood<readonly ExternalMetricValue[]>();
  readonly #outageLog = new ThrottledLog();

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
    // The tenant is the request namespace's, also for rules whose query leaves the namespace out.
    const tenant = this.#d.backends ? await this.#d.backends.tenantOf(namespace) : undefined;
    const registry = this.#d.registryFor ? this.#d.registryFor(tenant) : this.#d.registry();
    const entry = registry.get(info.metric);
    if (!entry) {
      throw externalMetricNotFound(namespace, info.metric);
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
    const prometheus = this.#d.backends
      ? this.#d.backends.client(entry.rule, tenant)
      : this.#d.prometheus;
    const data = entry.rule.data ?? NO_DATA_OPTIONS;
    const now = () => (this.#d.now ?? (() => new Date()))();
    let items: readonly ExternalMetricValue[];
    if (data.lastGoodValueForMs <= 0) {
      items = await this.#run(prometheus, info, query);
    } else {
      const key = JSON.stringify([tenant ?? null, info.metric, namespace, metricSelector]);
      try {
        items = await this.#run(prometheus, info, query);
        this.#lastGood.put(key, items, data.lastGoodValueForMs, now().getTime());
      } catch (e) {
        const t = now().getTime();
        const g = isOutage(e) ? this.#lastGood.get(key, t) : undefined;
        if (g === undefined) throw e;
        items = g.value;
        countDataAnswer("external", "last_good_value", Math.max(1, items.length));
        if (this.#outageLog.take(entry.rule.origin, t)) {
          this.#d.log.warn(
            {
              rule: entry.rule.origin,
              metric: info.metric,
              ageSeconds: Math.round((t - g.at) / 1000),
              maxAgeSeconds: data.lastGoodValueForMs / 1000,
              err: String(e instanceof Error && e.cause !== undefined ? e.cause : e),
            },
            "prometheus unavailable; answering last good values (k8sCustomMetrics.lastGoodValueFor; logged every 30s per rule)",
          );
        }
      }
    }
    if (items.length === 0 && data.valueWhenMissing !== undefined) {
      countDataAnswer("external", "value_when_missing");
      // No series to take labels from: an item without labels, stamped now.
      return [
        {
          metricName: info.metric,
          metricLabels: {},
          timestamp: now(),
          value: data.valueWhenMissing,
        },
      ];
    }
    return [...items];
  }

  /** The query's samples as items (upstream: one per vector sample, or the scalar). */
  async #run(
    prometheus: PrometheusApi,
    info: ExternalMetricInfo,
    query: string,
  ): Promise<readonly ExternalMetricValue[]> {
    const result = await queryOrFail(prometheus, this.#d.log, query);
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
