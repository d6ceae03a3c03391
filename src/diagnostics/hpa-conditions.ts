/**
 * @module diagnostics/hpa-conditions
 * Why an HPA cannot scale, from its status conditions. The HPA controller
 * (pkg/controller/podautoscaler/horizontal.go, replica_calculator.go, metrics/client.go) wraps the
 * metrics client's error in a few fixed phrases; this recognizes them and names the cause and fix.
 */
import { closestKey } from "../config/suggest.ts";

export interface HpaCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string | undefined;
  readonly message?: string | undefined;
}

export type HpaFailureKind =
  | "metric-not-found"
  | "api-not-served"
  | "api-not-registered"
  | "api-unavailable"
  | "adapter-query-failed"
  | "no-samples"
  | "pods-without-samples"
  | "no-pods"
  | "missing-request"
  | "forbidden"
  | "invalid-selector"
  | "ambiguous-selector"
  | "scale-target"
  | "invalid-metric"
  | "unknown";

export interface HpaFailure {
  readonly kind: HpaFailureKind;
  /** `ScalingActive=False FailedGetPodsMetric`. */
  readonly condition: string;
  /** The metric named in the message, when one is. */
  readonly metric?: string;
  readonly cause: string;
  readonly fix: string;
}

export interface HpaContext {
  /** Metric names the custom metrics API lists for a resource (`pods`), for "did you mean". */
  readonly listedMetrics?: ((resource: string) => readonly string[] | undefined) | undefined;
  /** External metric names listed, for "did you mean". */
  readonly externalMetrics?: readonly string[] | undefined;
}

const VALIDATE = "k8s-custom-metrics validate --config FILE --prometheus-url URL";

/** The metric an error message is about. */
function metricOf(message: string): string | undefined {
  const patterns = [
    /could not find the metric (\S+) for/,
    /unable to get metric (\S+?):/,
    /unable to get external metric [^/\s]*\/([^/\s]+)\//,
    /failed to get (\S+) external metric/,
    /unable to get metrics for resource (\S+?):/,
  ];
  for (const re of patterns) {
    const m = re.exec(message);
    if (m?.[1] !== undefined) return m[1];
  }
  return undefined;
}

function didYouMean(metric: string, listed: readonly string[] | undefined): string {
  if (listed === undefined || listed.length === 0) return "";
  const guess = closestKey(metric, listed);
  return guess === undefined || guess === metric ? "" : `; did you mean ${JSON.stringify(guess)}?`;
}

/**
 * The failing condition of an HPA, decoded, or undefined when the HPA can compute its replicas.
 * ScalingDisabled (target at 0 replicas) is a choice, not a failure.
 */
export function decodeHpaFailure(
  conditions: readonly HpaCondition[],
  ctx: HpaContext = {},
): HpaFailure | undefined {
  const failed =
    conditions.find(
      (c) => c.type === "ScalingActive" && c.status === "False" && c.reason !== "ScalingDisabled",
    ) ?? conditions.find((c) => c.type === "AbleToScale" && c.status === "False");
  if (failed === undefined) return undefined;
  const reason = failed.reason ?? "";
  const message = failed.message ?? "";
  const condition = `${failed.type}=False ${reason}`.trim();
  const metric = metricOf(message);
  const base = { condition, ...(metric === undefined ? {} : { metric }) };
  const fail = (kind: HpaFailureKind, cause: string, fix: string): HpaFailure => ({
    ...base,
    kind,
    cause,
    fix,
  });

  if (reason === "FailedGetScale" || reason === "FailedUpdateScale") {
    return fail(
      "scale-target",
      `the HPA cannot ${reason === "FailedGetScale" ? "read" : "update"} its target's scale: ${message.replace(/^the HPA controller was unable to (get|update) the target('s current)? scale: /, "")}`,
      "check spec.scaleTargetRef (kind, name, apiVersion) names an existing Deployment, StatefulSet or other scalable object",
    );
  }
  if (reason === "InvalidSelector") {
    return fail(
      "invalid-selector",
      `the target's scale has no usable selector: ${message}`,
      "give the target a valid spec.selector",
    );
  }
  if (reason === "AmbiguousSelector") {
    return fail(
      "ambiguous-selector",
      message,
      "make each workload's pods selected by one HPA only",
    );
  }
  if (reason === "InvalidMetricSourceType") {
    return fail(
      "invalid-metric",
      message,
      "fix spec.metrics[].type (Resource, Pods, Object, External, ContainerResource)",
    );
  }

  const resource = /could not find the metric \S+ for (\S+)/.exec(message)?.[1];
  if (/could not find the metric/.test(message) && metric !== undefined) {
    const external = reason === "FailedGetExternalMetric";
    const listed = external ? ctx.externalMetrics : ctx.listedMetrics?.(resource ?? "pods");
    const what = external ? "external metric" : `metric for ${resource ?? "these objects"}`;
    return fail(
      "metric-not-found",
      `the metrics API lists no ${what} named ${JSON.stringify(metric)}${didYouMean(metric, listed)}`,
      `fix the metric name in the HPA, or make a rule give it (run \`${VALIDATE}\` to see the metrics each rule gives and why)`,
    );
  }
  if (/no custom metrics API \(custom\.metrics\.k8s\.io\) registered/.test(message)) {
    return fail(
      "api-not-registered",
      "no APIService registers custom.metrics.k8s.io",
      "apply the adapter's APIServices (deploy/base/apiservices.yaml)",
    );
  }
  if (/the server could not find the requested resource/.test(message)) {
    const group = /\(get \S+?\.(\S+?)[ )]/.exec(message)?.[1] ?? "the metrics API";
    return fail(
      "api-not-served",
      `the API server does not serve ${group} (no APIService for it, or the adapter behind it does not serve that version)`,
      "see the APIService checks above; register the adapter for that group",
    );
  }
  if (/the server is currently unable to handle the request|service unavailable/i.test(message)) {
    return fail(
      "api-unavailable",
      "the metrics APIService is not Available, so the API server refuses the request",
      "see the APIService checks above for why it is not Available",
    );
  }
  if (/is forbidden: User "([^"]+)"/.test(message)) {
    const user = /is forbidden: User "([^"]+)"/.exec(message)?.[1] ?? "";
    return fail(
      "forbidden",
      `the HPA controller (${user}) may not read the metric: ${message.replace(/^.*?(\S+ is forbidden)/, "$1")}`,
      "bind the horizontal-pod-autoscaler service account to get/list on custom.metrics.k8s.io and external.metrics.k8s.io (deploy/base/rbac.yaml, hpa-controller-k8s-custom-metrics)",
    );
  }
  if (
    /Internal error occurred: unable to fetch metrics|unable to fetch metrics from \S+ metrics API: .*500/.test(
      message,
    )
  ) {
    return fail(
      "adapter-query-failed",
      "the adapter's query to Prometheus failed (Prometheus down or slow, or it rejects the rendered query)",
      `read the adapter's log for the query and its error; run \`${VALIDATE}\` to render and run every rule's query`,
    );
  }
  if (/did not receive metrics for targeted pods/.test(message)) {
    return fail(
      "pods-without-samples",
      "none of the HPA's Running pods has a sample (pods not scraped yet, not Ready, or their series lack the pod label)",
      "check the pods are scraped (prometheus.io/scrape annotations, ServiceMonitor) and that their series carry namespace and pod labels",
    );
  }
  if (/no metrics returned from (custom|external|resource) metrics API/.test(message)) {
    const api = /no metrics returned from (\S+) metrics API/.exec(message)?.[1] ?? "the";
    return fail(
      "no-samples",
      `the ${api} metrics API answered with no value for the HPA's objects: the rule's query returns nothing for them (no series for these pods, a label the rule maps differently, or a rate window shorter than two scrapes)`,
      `run \`${VALIDATE}\` to see the query rendered for a real object and its result`,
    );
  }
  if (/no pods returned by selector/.test(message)) {
    return fail(
      "no-pods",
      "the target's selector matches no pod",
      "check the workload's pods exist and carry the labels of its selector",
    );
  }
  if (/missing (pod-level )?request for (\S+)/.test(message)) {
    const m = /missing (?:pod-level )?request for (\S+) in container (\S+) of Pod (\S+)/.exec(
      message,
    );
    return fail(
      "missing-request",
      m
        ? `container ${m[2] ?? ""} of pod ${m[3] ?? ""} has no ${m[1] ?? ""} request, so utilization cannot be computed`
        : message,
      "set resources.requests for that resource on every container, or use an AverageValue target",
    );
  }
  return fail(
    "unknown",
    message === "" ? reason : message,
    "kubectl describe hpa, and read the events",
  );
}
