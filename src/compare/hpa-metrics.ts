/**
 * @module compare/hpa-metrics
 * What an HPA asks the metrics APIs for: per entry of spec.metrics the request the HPA controller
 * sends (pkg/controller/podautoscaler/metrics/client.go: the path, labelSelector =
 * the target's scale selector for Pods and Resource metrics, metricLabelSelector / labelSelector =
 * the metric's selector) and the target it compares the answer with.
 */
import type { LabelSelectorJson } from "../apimachinery/label-selector-json.ts";
import { parseQuantity } from "../apimachinery/quantity.ts";
import { DEFAULT_TOLERANCE, type Tolerances } from "../hpa/replica-calculator.ts";
import { selectorString } from "./selector.ts";

export interface TargetJson {
  readonly type: string;
  readonly value?: string;
  readonly averageValue?: string;
  readonly averageUtilization?: number;
}

interface MetricIdJson {
  readonly name: string;
  readonly selector?: LabelSelectorJson | null;
}

export interface MetricSpecJson {
  readonly type: string;
  readonly pods?: { readonly metric: MetricIdJson; readonly target: TargetJson };
  readonly object?: {
    readonly describedObject: {
      readonly apiVersion?: string;
      readonly kind: string;
      readonly name: string;
    };
    readonly metric: MetricIdJson;
    readonly target: TargetJson;
  };
  readonly external?: { readonly metric: MetricIdJson; readonly target: TargetJson };
  readonly resource?: { readonly name: string; readonly target: TargetJson };
  readonly containerResource?: {
    readonly name: string;
    readonly container: string;
    readonly target: TargetJson;
  };
}

export interface HpaJson {
  readonly metadata: { readonly namespace: string; readonly name: string };
  readonly spec: {
    readonly scaleTargetRef: {
      readonly apiVersion?: string;
      readonly kind: string;
      readonly name: string;
    };
    readonly minReplicas?: number;
    readonly maxReplicas: number;
    readonly metrics?: readonly MetricSpecJson[];
    readonly behavior?: {
      readonly scaleUp?: { readonly tolerance?: string } | null;
      readonly scaleDown?: { readonly tolerance?: string } | null;
    } | null;
  };
}

/** A request to a metrics API, relative to `/apis/<group>/<version>/`. */
export interface MetricRequest {
  readonly group: string;
  readonly version: string;
  readonly segments: readonly string[];
  readonly query: Readonly<Record<string, string>>;
}

export const CUSTOM = "custom.metrics.k8s.io";
export const EXTERNAL = "external.metrics.k8s.io";
export const RESOURCE = "metrics.k8s.io";

export type MetricKind = "Pods" | "Object" | "External" | "Resource" | "ContainerResource";

export interface Target {
  readonly type: "Value" | "AverageValue" | "Utilization";
  /** Value and AverageValue, in milli-units (MilliValue). */
  readonly milli?: number;
  /** Utilization, in percent. */
  readonly utilization?: number;
  /** As written in the HPA: `5`, `100Mi`, `50%`. */
  readonly text: string;
}

export interface MetricProbe {
  /** Position in spec.metrics. */
  readonly index: number;
  readonly kind: MetricKind;
  /** The metric name, or the resource name (`cpu`) for Resource metrics. */
  readonly name: string;
  /** For humans: `pods/http_requests_per_second`, `external/queue_depth{queue=a}`, `resource/cpu`. */
  readonly label: string;
  readonly target: Target;
  /** Without the version for custom metrics: it is the one the cluster prefers. */
  readonly request: MetricRequest;
  /** ContainerResource: the container whose usage counts. */
  readonly container?: string;
}

/** How a Kind of a group is called as a resource: from API discovery. */
export type ResourceOf = (group: string, kind: string) => string | undefined;

function milli(q: string | undefined, what: string): number {
  if (q === undefined) throw new Error(`${what} is not set`);
  return Number(parseQuantity(q).milliValue());
}

function target(t: TargetJson): Target {
  switch (t.type) {
    case "Utilization":
      if (t.averageUtilization === undefined) throw new Error("averageUtilization is not set");
      return {
        type: "Utilization",
        utilization: t.averageUtilization,
        text: `${String(t.averageUtilization)}%`,
      };
    case "AverageValue":
      return {
        type: "AverageValue",
        milli: milli(t.averageValue, "averageValue"),
        text: t.averageValue ?? "",
      };
    case "Value":
      return { type: "Value", milli: milli(t.value, "value"), text: t.value ?? "" };
    default:
      throw new Error(`unknown target type ${JSON.stringify(t.type)}`);
  }
}

function groupOf(apiVersion: string | undefined): string {
  const v = apiVersion ?? "v1";
  return v.includes("/") ? (v.split("/")[0] ?? "") : "";
}

function withSelector(name: string, selector: string): string {
  return selector === "" ? name : `${name}{${selector}}`;
}

function query(params: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== ""));
}

/** Spec tolerances: spec.behavior.scaleUp/scaleDown.tolerance, else the controller's 0.1. */
export function tolerancesOf(hpa: HpaJson): Tolerances {
  const t = (q: string | undefined) => (q === undefined ? DEFAULT_TOLERANCE : milli(q, "") / 1000);
  return {
    scaleUp: t(hpa.spec.behavior?.scaleUp?.tolerance),
    scaleDown: t(hpa.spec.behavior?.scaleDown?.tolerance),
  };
}

/**
 * One probe per spec.metrics entry; an entry that cannot be asked for (an unknown type, a
 * describedObject of a kind the cluster lacks) gives an Error in its place.
 */
export function metricProbes(
  hpa: HpaJson,
  scaleSelector: string,
  resourceOf: ResourceOf,
): (MetricProbe | Error)[] {
  const ns = hpa.metadata.namespace;
  return (hpa.spec.metrics ?? []).map((m, index): MetricProbe | Error => {
    try {
      switch (m.type) {
        case "Pods": {
          if (!m.pods) throw new Error("spec.metrics[].pods is not set");
          const sel = selectorString(m.pods.metric.selector);
          return {
            index,
            kind: "Pods",
            name: m.pods.metric.name,
            label: `pods/${withSelector(m.pods.metric.name, sel)}`,
            target: target(m.pods.target),
            request: {
              group: CUSTOM,
              version: "",
              segments: ["namespaces", ns, "pods", "*", m.pods.metric.name],
              query: query({ labelSelector: scaleSelector, metricLabelSelector: sel }),
            },
          };
        }
        case "Object": {
          const o = m.object;
          if (!o) throw new Error("spec.metrics[].object is not set");
          const sel = selectorString(o.metric.selector);
          const group = groupOf(o.describedObject.apiVersion);
          const kind = o.describedObject.kind;
          let segments: string[];
          let objectLabel: string;
          if (group === "" && kind === "Namespace") {
            // The one root-scoped form the controller uses; describedObject.name is not sent.
            segments = ["namespaces", ns, "metrics", o.metric.name];
            objectLabel = `namespaces/${ns}`;
          } else {
            const resource = resourceOf(group, kind);
            if (resource === undefined) {
              throw new Error(
                `the cluster has no resource of kind ${kind}${group === "" ? "" : ` in ${group}`}`,
              );
            }
            const gr = group === "" ? resource : `${resource}.${group}`;
            segments = ["namespaces", ns, gr, o.describedObject.name, o.metric.name];
            objectLabel = `${gr}/${o.describedObject.name}`;
          }
          return {
            index,
            kind: "Object",
            name: o.metric.name,
            label: `${objectLabel} ${withSelector(o.metric.name, sel)}`,
            target: target(o.target),
            request: {
              group: CUSTOM,
              version: "",
              segments,
              query: query({ metricLabelSelector: sel }),
            },
          };
        }
        case "External": {
          if (!m.external) throw new Error("spec.metrics[].external is not set");
          const sel = selectorString(m.external.metric.selector);
          return {
            index,
            kind: "External",
            name: m.external.metric.name,
            label: `external/${withSelector(m.external.metric.name, sel)}`,
            target: target(m.external.target),
            request: {
              group: EXTERNAL,
              version: "v1beta1",
              segments: ["namespaces", ns, m.external.metric.name],
              query: query({ labelSelector: sel }),
            },
          };
        }
        case "Resource":
        case "ContainerResource": {
          const r = m.type === "Resource" ? m.resource : m.containerResource;
          if (!r) throw new Error(`spec.metrics[].${m.type.toLowerCase()} is not set`);
          const container = m.containerResource?.container;
          return {
            index,
            kind: m.type,
            name: r.name,
            label: `resource/${r.name}${container === undefined ? "" : ` (container ${container})`}`,
            target: target(r.target),
            request: {
              group: RESOURCE,
              version: "v1beta1",
              segments: ["namespaces", ns, "pods"],
              query: query({ labelSelector: scaleSelector }),
            },
            ...(container === undefined ? {} : { container }),
          };
        }
        default:
          throw new Error(`unknown metric source type ${JSON.stringify(m.type)}`);
      }
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  });
}

/** `/apis/<group>/<version>/<segments>?<query>` as the controller's client writes it (`*` as %2A). */
export function requestPath(r: MetricRequest, version: string): string {
  const path = r.segments.map((s) => encodeURIComponent(s).replaceAll("*", "%2A")).join("/");
  const q = new URLSearchParams(Object.entries(r.query).sort(([a], [b]) => (a < b ? -1 : 1)));
  const qs = q.toString();
  return `/apis/${r.group}/${version}/${path}${qs === "" ? "" : `?${qs}`}`;
}
