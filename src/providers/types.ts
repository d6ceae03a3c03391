/**
 * @module providers/types
 * What the API handlers ask of a metrics source. Mirrors custom-metrics-apiserver's
 * provider.CustomMetricsProvider and ExternalMetricsProvider (pkg/provider/interfaces.go).
 */
import type { Requirement } from "../apimachinery/label-selector.ts";
import type { GroupResource } from "../apimachinery/group-resource.ts";
import type { Ticket } from "./arrival-ticket.ts";

/** A custom metric as discovery lists it: `pods/http_requests`, namespaced. */
export interface CustomMetricInfo {
  readonly groupResource: GroupResource;
  readonly namespaced: boolean;
  readonly metric: string;
}

export interface ExternalMetricInfo {
  readonly metric: string;
}

/** One value of a custom metric, before it is shaped for an API version. */
export interface CustomMetricValue {
  readonly describedObject: {
    readonly kind: string;
    readonly namespace?: string;
    readonly name: string;
    readonly apiVersion: string;
  };
  readonly metric: string;
  readonly timestamp: Date;
  readonly windowSeconds?: number;
  /** Milli-units, as upstream's resource.NewMilliQuantity(int64(v*1000)). */
  readonly value: number;
  readonly selector: readonly Requirement[];
}

export interface ExternalMetricValue {
  readonly metricName: string;
  readonly metricLabels: Readonly<Record<string, string>> | null;
  readonly timestamp: Date;
  readonly value: number;
}

export interface CustomMetricsProvider {
  listAllMetrics(): readonly CustomMetricInfo[];
  /**
   * One named object; namespace is "" for root-scoped objects. `ticket`: the request's arrival
   * ticket (providers/arrival-ticket.ts), if the server gave it one.
   */
  getMetricByName(
    namespace: string,
    name: string,
    info: CustomMetricInfo,
    metricSelector: readonly Requirement[],
    ticket?: Ticket,
  ): Promise<CustomMetricValue>;
  /** Every object the label selector picks (`*` in the path); `ticket` as above. */
  getMetricBySelector(
    namespace: string,
    selector: string,
    info: CustomMetricInfo,
    metricSelector: readonly Requirement[],
    ticket?: Ticket,
  ): Promise<CustomMetricValue[]>;
}

export interface ExternalMetricsProvider {
  listAllExternalMetrics(): readonly ExternalMetricInfo[];
  getExternalMetric(
    namespace: string,
    metricSelector: readonly Requirement[],
    info: ExternalMetricInfo,
  ): Promise<ExternalMetricValue[]>;
}
