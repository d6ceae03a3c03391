/**
 * @module diagnostics/explain/request
 * One metrics request as the HPA controller's metrics client sends it: built from `explain
 * metric`'s arguments, named in words, and as the path it asks.
 */
import { groupResourceString } from "../../apimachinery/group-resource.ts";
import type { ExplainContext } from "./context.ts";
import { CUSTOM, EXTERNAL, NAMESPACES, type Ask, type ExplainTarget } from "./types.ts";

/** The namespaces resource: a custom metric of a namespace, asked by the namespace's name. */
export function isNamespaces(a: Pick<Ask, "groupResource">): boolean {
  return a.groupResource.group === "" && a.groupResource.resource === "namespaces";
}

/** An external metric's request: the selector picks the series, there is no object. */
export function externalAsk(metric: string, namespace: string, labelSelector: string): Ask {
  return {
    api: "external",
    metric,
    namespace,
    groupResource: NAMESPACES,
    object: "",
    labelSelector,
    metricSelector: "",
  };
}

export function askText(a: Ask): string {
  if (a.api === "external") {
    return `external ${a.metric} in ${a.namespace}${a.labelSelector ? ` (selector ${a.labelSelector})` : ""}`;
  }
  const obj = isNamespaces(a)
    ? `namespace ${a.object}`
    : `${groupResourceString(a.groupResource)}/${a.object}${a.namespace ? ` in ${a.namespace}` : ""}`;
  return `${a.metric} for ${obj}${a.labelSelector ? ` (selector ${a.labelSelector})` : ""}${a.metricSelector ? ` (metric selector ${a.metricSelector})` : ""}`;
}

export async function askOf(
  cx: ExplainContext,
  t: Extract<ExplainTarget, { kind: "metric" }>,
): Promise<Ask> {
  if (t.external) return externalAsk(t.metric, t.namespace, t.labelSelector ?? "");
  const groupResource = await cx.normalize(t.resource ?? "pods");
  const isNs = isNamespaces({ groupResource });
  return {
    api: "custom",
    metric: t.metric,
    namespace: isNs ? "" : t.namespace,
    groupResource,
    object: isNs ? (t.object ?? t.namespace) : (t.object ?? "*"),
    labelSelector: t.labelSelector ?? "",
    metricSelector: t.metricSelector ?? "",
  };
}

/** The path the HPA controller's metrics client asks. */
export function requestPath(a: Ask, version: string): string {
  const q = new URLSearchParams();
  if (a.labelSelector) q.set("labelSelector", a.labelSelector);
  if (a.metricSelector && a.api === "custom") q.set("metricLabelSelector", a.metricSelector);
  const qs = q.size > 0 ? `?${q.toString()}` : "";
  if (a.api === "external") {
    return `/apis/${EXTERNAL}/${version}/namespaces/${a.namespace}/${a.metric}${qs}`;
  }
  const r = groupResourceString(a.groupResource);
  if (isNamespaces(a)) {
    return `/apis/${CUSTOM}/${version}/namespaces/${a.object}/metrics/${a.metric}${qs}`;
  }
  return a.namespace
    ? `/apis/${CUSTOM}/${version}/namespaces/${a.namespace}/${r}/${a.object}/${a.metric}${qs}`
    : `/apis/${CUSTOM}/${version}/${r}/${a.object}/${a.metric}${qs}`;
}
