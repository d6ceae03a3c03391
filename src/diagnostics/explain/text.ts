/**
 * @module diagnostics/explain/text
 * The small readings and wordings the links share: an error's message (a Prometheus error, a
 * Kubernetes Status), a LabelSelector as a string, quantities, targets, samples of names, a pod's
 * readiness, and what to do about a server that does not answer.
 */
import { parseQuantity } from "../../apimachinery/quantity.ts";
import { KubeApiError } from "../../kube/client.ts";
import { isPrometheusError } from "../../prometheus/errors.ts";
import type { PodJson, SelectorJson, Target } from "./types.ts";

export function errorText(e: unknown): string {
  if (isPrometheusError(e)) return e.error ?? e.message;
  if (e instanceof KubeApiError) return statusMessage(e);
  return e instanceof Error ? e.message : String(e);
}

/** The message of a Kubernetes Status body, else the body. */
export function statusMessage(e: KubeApiError): string {
  try {
    const s = JSON.parse(e.body) as { message?: string };
    if (typeof s.message === "string") return s.message;
  } catch {
    // not a Status
  }
  return e.body.trim().slice(0, 400) || e.message;
}

/** A LabelSelector object as the string form the metrics APIs take. */
export function selectorString(s: SelectorJson | undefined | null): string {
  if (!s) return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of s.matchExpressions ?? []) {
    const values = (e.values ?? []).join(",");
    if (e.operator === "In") parts.push(`${e.key} in (${values})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${values})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.join(",");
}

export function milli(q: string): number {
  return Number(parseQuantity(q).milliValue());
}

export function targetText(t: Target): string {
  if (t.type === "Utilization") return `Utilization ${String(t.averageUtilization ?? "?")}%`;
  return `${t.type} ${t.type === "Value" ? (t.value ?? "?") : (t.averageValue ?? "?")}`;
}

export function sample(xs: readonly string[], n = 5): string {
  const shown = xs.slice(0, n).join(", ");
  return xs.length > n ? `${shown}, … (${String(xs.length)} in all)` : shown;
}

export function podReady(p: PodJson): boolean {
  return p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** `…, N Running, M Ready` of a pod list. */
export function podCounts(pods: readonly PodJson[]): string {
  const running = pods.filter((p) => p.status?.phase === "Running").length;
  return `${String(running)} Running, ${String(pods.filter(podReady).length)} Ready`;
}

/**
 * The title of a query link whose server does not answer: the rule's own server (`origin`), or
 * Prometheus (--prometheus-url) when undefined.
 */
export function unreachableTitle(origin: string | undefined): string {
  return origin !== undefined
    ? `query: ${origin}'s server does not answer`
    : "query: Prometheus does not answer";
}

/** The fix for a server that does not answer: as unreachableTitle. */
export function unreachableFix(origin: string | undefined): string {
  return origin !== undefined
    ? `start that server, or fix ${origin}.k8sCustomMetrics.server.url (and the adapter's network path to it)`
    : "start Prometheus, or fix the adapter's --prometheus-url (and its network path to Prometheus)";
}
