/**
 * @module diagnostics/explain/debug-routes
 * Without a config, the adapter's own debug routes (server/debug-routes.ts) through the
 * aggregator: the rule and series it answers a metric from (debug/metrics), and the query it
 * renders for the request (debug/query), which is then run as the adapter would.
 */
import { groupResourceString } from "../../apimachinery/group-resource.ts";
import { KubeApiError } from "../../kube/client.ts";
import type { Chain } from "./chain.ts";
import type { ExplainContext } from "./context.ts";
import { QUERY_NOT_RENDERED_FIX, runQuery } from "./query.ts";
import { errorText, statusMessage } from "./text.ts";
import { CUSTOM, type Ask, type DebugQuery, type DebugRule } from "./types.ts";

/** GET one of the adapter's debug routes through the aggregator. */
async function debug(
  cx: ExplainContext,
  route: string,
): Promise<{ ok: unknown } | { status: number; message: string }> {
  let last: { status: number; message: string } = { status: 404, message: "" };
  for (const v of ["v1beta2", "v1beta1"]) {
    try {
      return { ok: await cx.kube.json<unknown>("GET", `/apis/${CUSTOM}/${v}/debug/${route}`) };
    } catch (e) {
      if (!(e instanceof KubeApiError)) return { status: 0, message: errorText(e) };
      last = { status: e.status, message: statusMessage(e) };
      if (e.status !== 404 && e.status !== 503) return last;
    }
  }
  return last;
}

/** The rule and series the adapter answers the metric from, from its debug/metrics. */
export async function debugRule(cx: ExplainContext, ask: Ask): Promise<DebugRule | undefined> {
  const r = await debug(cx, "metrics");
  if (!("ok" in r)) return undefined;
  const body = r.ok as {
    custom?: (DebugRule & { resource: string; metric: string })[];
    external?: (DebugRule & { metric: string })[];
  };
  if (ask.api === "external") return body.external?.find((m) => m.metric === ask.metric);
  const res = groupResourceString(ask.groupResource);
  return body.custom?.find((m) => m.metric === ask.metric && m.resource === res);
}

/** The query the adapter itself renders for the request (debug/query), run when possible. */
export async function debugQuery(
  cx: ExplainContext,
  ask: Ask,
  names: readonly string[],
  chain: Chain,
): Promise<boolean> {
  const q = new URLSearchParams({ metric: ask.metric, namespace: ask.namespace });
  if (ask.api === "external") {
    q.set("external", "true");
    if (ask.labelSelector) q.set("labelSelector", ask.labelSelector);
  } else {
    q.set("resource", groupResourceString(ask.groupResource));
    q.set("names", names.join(","));
    if (ask.metricSelector) q.set("metricLabelSelector", ask.metricSelector);
  }
  const r = await debug(cx, `query?${q.toString()}`);
  if (!("ok" in r)) {
    if (r.status === 400) {
      chain.fail(
        "query",
        "query: the adapter cannot render its query for this request",
        "query-not-rendered",
        r.message,
        QUERY_NOT_RENDERED_FIX,
      );
      return false;
    }
    chain.add(
      "query",
      "skip",
      `query: not checked (debug/query: ${r.message || `HTTP ${String(r.status)}`})`,
    );
    return true;
  }
  const d = r.ok as DebugQuery;
  if (!cx.o.prometheus) {
    chain.add("query", "skip", "query: rendered by the adapter; pass --prometheus-url to run it", {
      details: [d.query],
    });
    return true;
  }
  return runQuery(
    cx,
    { ask, seriesName: d.series, label: d.label, names },
    { origin: d.rule, template: d.template, nsLabel: d.namespaceLabel },
    d.query,
    chain,
  );
}
