/**
 * @module apis/external-metrics
 * external.metrics.k8s.io v1beta1: `namespaces/<ns>/<metric>?labelSelector=…`
 * (custom-metrics-apiserver pkg/registry/external_metrics/reststorage.go).
 */
import { LabelSelectorError } from "../apimachinery/label-selector.ts";
import { parseRequirements } from "../apimachinery/label-selector-parser.ts";
import { fromFloatMilli } from "../apimachinery/quantity-conversions.ts";
import { badRequest, StatusError } from "../apimachinery/status.ts";
import { formatRfc3339 } from "../apimachinery/time.ts";
import type { ExternalMetricsProvider } from "../providers/types.ts";
import { routeNotFound } from "./custom-metrics.ts";
import { apiResourceList } from "./discovery.ts";
import type { ApiGroup, ApiRequest, ApiResponse } from "./types.ts";

export const EXTERNAL_METRICS_GROUP = "external.metrics.k8s.io";

export function externalMetricsApi(provider: ExternalMetricsProvider): ApiGroup {
  return {
    name: EXTERNAL_METRICS_GROUP,
    versions: ["v1beta1"],
    advertisedVersions: ["v1beta1"],
    resourceList(version) {
      return apiResourceList(
        EXTERNAL_METRICS_GROUP,
        version,
        provider.listAllExternalMetrics().map((m) => ({
          name: m.metric,
          singularName: "",
          // Upstream reports every external metric as namespaced (prometheus-adapter #530).
          namespaced: true,
          kind: "ExternalMetricValueList",
          verbs: ["get"],
        })),
      );
    },
    async handle(_version, req: ApiRequest): Promise<ApiResponse> {
      const [a, namespace, metric] = req.segments;
      if (req.segments.length !== 3 || a !== "namespaces" || !namespace || !metric) {
        throw routeNotFound();
      }
      let selector;
      try {
        selector = parseRequirements(req.query.get("labelSelector") ?? "");
      } catch (e) {
        if (e instanceof LabelSelectorError)
          throw new StatusError(badRequest(e.message), { cause: e });
        throw e;
      }
      const values = await provider.getExternalMetric(namespace, selector, { metric });
      return {
        status: 200,
        body: {
          kind: "ExternalMetricValueList",
          apiVersion: `${EXTERNAL_METRICS_GROUP}/v1beta1`,
          metadata: {},
          items: values.map((v) => ({
            metricName: v.metricName,
            metricLabels: v.metricLabels,
            timestamp: formatRfc3339(v.timestamp),
            value: fromFloatMilli(v.value).toString(),
          })),
        },
      };
    },
  };
}
