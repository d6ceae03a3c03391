/**
 * @module diagnostics/explain/types
 * What `explain` is asked (an HPA, or one raw metrics request) and with what (the caller's
 * cluster client, Prometheus, the adapter's config), and the shapes it reads: the HPA, its
 * metrics and targets, pods, and the adapter's debug routes.
 */
import type { GroupResource } from "../../apimachinery/group-resource.ts";
import type { AdapterConfig } from "../../config/schema.ts";
import type { KubeClient } from "../../kube/client.ts";
import type { PrometheusClient } from "../../prometheus/client.ts";
import type { PrometheusClientOptions } from "../../prometheus/options.ts";
import type { ConfigDocument } from "../config-document.ts";
import type { HpaCondition } from "../hpa-conditions.ts";
import type { Backend } from "./report.ts";

export const CUSTOM = "custom.metrics.k8s.io";
export const EXTERNAL = "external.metrics.k8s.io";
export const RESOURCE = "metrics.k8s.io";
export const PODS: GroupResource = { group: "", resource: "pods" };
export const NAMESPACES: GroupResource = { group: "", resource: "namespaces" };

/** The command a fix points to when the config is what needs checking. */
export const VALIDATE = "k8s-custom-metrics validate --config FILE --prometheus-url URL";

/** The links of one request's chain, in the order it travels. */
export const STEPS = [
  "apiservice",
  "listed",
  "rule",
  "objects",
  "query",
  "answer",
  "hpa-controller",
];

export interface ExplainOptions {
  readonly kube: KubeClient;
  /** Prometheus as the adapter asks it; without it the query links are not checked. */
  readonly prometheus?: PrometheusClient | undefined;
  readonly prometheusOptions?: PrometheusClientOptions | undefined;
  /** The adapter's config; without it the rule links are not checked. */
  readonly config?: { readonly config: AdapterConfig; readonly doc: ConfigDocument } | undefined;
  /** `--metrics-max-age` of the adapter: series seen within it count. */
  readonly maxAgeMs: number;
  readonly tolerance?: number;
  readonly now?: Date;
}

export type ExplainTarget =
  | { readonly kind: "hpa"; readonly namespace: string; readonly name: string }
  | {
      readonly kind: "metric";
      readonly metric: string;
      readonly namespace: string;
      /** Custom: the resource (`pods`, `deployments.apps`, `namespaces`) and object (`*`). */
      readonly resource?: string | undefined;
      readonly object?: string | undefined;
      readonly external: boolean;
      /** Selects the objects (custom `*`) or the series (external). */
      readonly labelSelector?: string | undefined;
      /** Custom: `metricLabelSelector`. */
      readonly metricSelector?: string | undefined;
    };

/** What the query judgement needs of the rule: its name, template text and namespace label. */
export interface QueryRule {
  readonly origin: string;
  readonly template: string;
  readonly nsLabel: string | undefined;
  /** The client its queries go through (its server, the tenant) and how to name it. */
  readonly client?: PrometheusClient | undefined;
  readonly backend?: Backend | undefined;
}

/** What a query is asked about: the request, the series the rule reads, the objects' label. */
export interface QueryInput {
  readonly ask: Ask;
  readonly seriesName: string;
  readonly label: string | undefined;
  readonly names: readonly string[];
}

/** The adapter's own view of a request (server/debug-routes.ts), when it serves it. */
export interface DebugQuery {
  readonly rule: string;
  readonly series: string;
  readonly label?: string;
  readonly namespaceLabel?: string;
  readonly template: string;
  readonly query: string;
}

/** A metric in the adapter's debug/metrics: its rule, series and server (older adapters: none). */
export interface DebugRule {
  readonly rule: string;
  readonly series: string;
  readonly server?: string;
  readonly url?: string;
  readonly headers?: Record<string, string>;
}

/** One request as the HPA controller (or a user) sends it. */
export interface Ask {
  readonly api: "custom" | "external";
  readonly metric: string;
  readonly namespace: string;
  /** Custom: the object's resource and name (`*` with a selector). */
  readonly groupResource: GroupResource;
  readonly object: string;
  /** Custom `*`: selects the objects; external: selects the series. */
  readonly labelSelector: string;
  readonly metricSelector: string;
}

export interface HpaJson {
  readonly metadata: { readonly namespace: string; readonly name: string };
  readonly spec: {
    readonly scaleTargetRef: { apiVersion?: string; kind: string; name: string };
    readonly minReplicas?: number;
    readonly maxReplicas: number;
    readonly metrics?: readonly MetricSpec[];
  };
  readonly status?: {
    readonly currentReplicas?: number;
    readonly desiredReplicas?: number;
    readonly conditions?: readonly (HpaCondition & { lastTransitionTime?: string })[];
  };
}

export interface SelectorJson {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { key: string; operator: string; values?: string[] }[];
}

export interface Target {
  readonly type: "Utilization" | "Value" | "AverageValue";
  readonly value?: string;
  readonly averageValue?: string;
  readonly averageUtilization?: number;
}

export interface MetricSpec {
  readonly type: string;
  readonly pods?: { metric: { name: string; selector?: SelectorJson }; target: Target };
  readonly object?: {
    metric: { name: string; selector?: SelectorJson };
    describedObject: { apiVersion?: string; kind: string; name: string };
    target: Target;
  };
  readonly external?: { metric: { name: string; selector?: SelectorJson }; target: Target };
  readonly resource?: { name: string; target: Target };
  readonly containerResource?: { name: string; container: string; target: Target };
}

export interface PodJson {
  readonly metadata: { name: string; deletionTimestamp?: string };
  readonly status?: {
    phase?: string;
    startTime?: string;
    conditions?: readonly { type: string; status: string; lastTransitionTime?: string }[];
  };
}

/** The scale subresource of an HPA's target: the selector its pods are listed with. */
export interface Scale {
  readonly selector: string;
  readonly replicas: number;
}

/** An HPA metric's request, with what the HPA controller computes from its answer. */
export interface HpaMetric {
  readonly hpa: HpaJson;
  readonly spec: MetricSpec;
  readonly scale: Scale;
  readonly pods: readonly PodJson[];
}

/** The adapter's answer: per object (or series), the value in milli-units. */
export interface Answer {
  readonly values: Map<string, number>;
}
