/**
 * @module diagnostics/explain/query
 * The query link: the rule's metricsQuery rendered for the request as the adapter renders it
 * (query-builder.ts), then run against the rule's server as the request's tenant; every link of
 * the step names that server.
 */
import type { Requirement } from "../../apimachinery/label-selector.ts";
import { parseRequirements } from "../../apimachinery/label-selector-parser.ts";
import type { PrometheusClient } from "../../prometheus/client.ts";
import { buildCustomQuery, buildExternalQuery } from "../../providers/prometheus/query-builder.ts";
import type { Chain } from "./chain.ts";
import type { ExplainContext } from "./context.ts";
import { judgeQuery } from "./query-judgement.ts";
import type { Backend } from "./report.ts";
import type { RuleInput } from "./rule-why.ts";
import { errorText } from "./text.ts";
import { NAMESPACES, type QueryInput, type QueryRule } from "./types.ts";

/** The fix of a query that cannot be rendered, by explain or by the adapter (debug/query). */
export const QUERY_NOT_RENDERED_FIX =
  "fix the HPA's metric selector (spec.metrics[].*.metric.selector) so every key is a Prometheus label name, or fix the rule's metricsQuery";

/** Renders the query as the adapter does and runs it; false when this link is broken. */
export async function renderedQuery(
  cx: ExplainContext,
  q: QueryInput,
  rule: RuleInput,
  client: PrometheusClient | undefined,
  backend: Backend,
  chain: Chain,
): Promise<boolean> {
  if (!client) return true;
  const { ask } = q;
  let query: string;
  let reqs: Requirement[];
  try {
    const sel = ask.api === "external" ? ask.labelSelector : ask.metricSelector;
    reqs = sel ? parseRequirements(sel) : [];
    query =
      ask.api === "external"
        ? buildExternalQuery(rule.compiled.metricsQuery, rule.compiled.resources, {
            series: q.seriesName,
            namespace: ask.namespace,
            metricSelector: reqs,
            namespaced: rule.compiled.namespaced,
          })
        : buildCustomQuery(rule.compiled.metricsQuery, rule.compiled.resources, {
            series: q.seriesName,
            groupResource: ask.groupResource,
            namespace: ask.namespace,
            names: q.names,
            metricSelector: reqs,
          });
  } catch (e) {
    chain.fail(
      "query",
      `query: ${rule.origin}.metricsQuery cannot be rendered for this request`,
      "query-not-rendered",
      `${errorText(e)}${ask.metricSelector || ask.labelSelector ? " (a selector key must be a valid Prometheus label name: letters, digits and _, not . or /)" : ""}`,
      QUERY_NOT_RENDERED_FIX,
    );
    return false;
  }
  let nsLabel: string | undefined;
  try {
    nsLabel = rule.compiled.resources.labelForResource(NAMESPACES);
  } catch {
    nsLabel = undefined;
  }
  return runQuery(
    cx,
    q,
    { origin: rule.origin, template: rule.config.metricsQuery, nsLabel, client, backend },
    query,
    chain,
  );
}

/** Runs a rendered query and judges the answer; false when this link is broken. */
export async function runQuery(
  cx: ExplainContext,
  q: QueryInput,
  qr: QueryRule,
  query: string,
  chain: Chain,
): Promise<boolean> {
  const prom = qr.client ?? cx.o.prometheus;
  if (!prom) return true;
  const start = chain.links.length;
  const ok = await judgeQuery(cx, prom, q, qr, query, chain);
  // Every link of this step says which server (and tenant) it asked.
  if (qr.backend) {
    for (let i = start; i < chain.links.length; i++) {
      const l = chain.links[i];
      if (l && l.step === "query" && !l.backend) chain.links[i] = { ...l, backend: qr.backend };
    }
  }
  return ok;
}
