/**
 * @module diagnostics/explain/walk
 * One request's chain, link by link in the order it travels: the APIService, the metric in the
 * adapter's discovery, the rule that gives it, the objects asked for, the rendered query and
 * Prometheus' answer, the adapter's answer, and for an HPA what its controller computes. The walk
 * stops at the first broken link and names the links it did not check.
 */
import { groupResourceString } from "../../apimachinery/group-resource.ts";
import { answerLink } from "./answer.ts";
import { apiServiceLink } from "./apiservice.ts";
import type { Chain } from "./chain.ts";
import type { ExplainContext } from "./context.ts";
import { debugQuery } from "./debug-routes.ts";
import { computeReplicas } from "./hpa-controller.ts";
import { listedLink } from "./listed.ts";
import { objectsLink } from "./objects.ts";
import { renderedQuery } from "./query.ts";
import type { Link } from "./report.ts";
import { requestPath } from "./request.ts";
import { gatherRuleEvidence, type RuleEvidence } from "./rule-evidence.ts";
import { ruleLink } from "./rule-link.ts";
import { errorText, unreachableFix, unreachableTitle } from "./text.ts";
import { CUSTOM, EXTERNAL, STEPS, type Ask, type HpaMetric, type PodJson } from "./types.ts";

export async function walk(
  cx: ExplainContext,
  ask: Ask,
  chain: Chain,
  hpa: HpaMetric | undefined,
): Promise<void> {
  const group = ask.api === "external" ? EXTERNAL : CUSTOM;
  const steps = hpa ? STEPS : STEPS.filter((s) => s !== "hpa-controller");
  const version = await apiServiceLink(cx, group, chain);
  if (version === undefined) {
    chain.rest(steps);
    return;
  }
  const path = requestPath(ask, version);
  chain.links[chain.links.length - 1] = {
    ...(chain.links[chain.links.length - 1] as Link),
    details: [`the request: GET ${path}`],
  };

  // Listed in discovery?
  const listedName =
    ask.api === "external" ? ask.metric : `${groupResourceString(ask.groupResource)}/${ask.metric}`;
  let listed: string[];
  try {
    const l = await cx.kube.json<{ resources?: { name?: string }[] }>(
      "GET",
      `/apis/${group}/${version}`,
    );
    listed = (l.resources ?? []).map((r) => r.name ?? "");
  } catch (e) {
    chain.fail(
      "listed",
      `GET /apis/${group}/${version}: ${errorText(e)}`,
      "discovery-failed",
      errorText(e),
      "k8s-custom-metrics doctor",
    );
    chain.rest(steps);
    return;
  }
  const ev = await gatherRuleEvidence(cx, ask);
  if (!listedLink(ask, { group, version, listedName, listed }, ev, chain)) {
    chain.rest(steps);
    return;
  }
  const choice = await ruleLink(cx, ask, ev, chain);
  if (!choice) {
    chain.rest(steps);
    return;
  }

  // The objects asked for.
  let names: string[] = [];
  let podList: readonly PodJson[] = hpa?.pods ?? [];
  if (ask.api === "custom") {
    const objects = await objectsLink(cx, ask, chain, hpa?.pods);
    if (objects === undefined) {
      chain.rest(steps);
      return;
    }
    names = objects.names;
    podList = objects.pods ?? podList;
  }

  // The rendered query and Prometheus' answer.
  if (ev.promDown !== undefined) {
    serverDown(ev, ev.promDown, chain);
    chain.rest(steps);
    return;
  }
  let ok = true;
  if (choice.from === "debug") {
    ok = await debugQuery(cx, ask, names, chain);
  } else if (choice.from === "config" && ev.clientOf(choice.rule)) {
    const { rule, seriesName, label } = choice;
    ok = await renderedQuery(
      cx,
      { ask, seriesName, label, names },
      rule,
      ev.clientOf(rule),
      ev.backendOf(rule),
      chain,
    );
  } else {
    chain.add("query", "skip", "query: not checked (pass --config and --prometheus-url)");
  }
  if (!ok) {
    chain.rest(steps);
    return;
  }

  // The adapter's answer, asked as the HPA controller asks.
  const answer = await answerLink(cx, ask, path, names, chain);
  if (!answer) {
    chain.rest(steps);
    return;
  }
  if (hpa) computeReplicas(cx, hpa, answer, podList, chain);
}

/** The query link when no server the request's rules ask answers. */
function serverDown(ev: RuleEvidence, promDown: string, chain: Chain): void {
  const { downRule } = ev;
  const b = ev.backendOf(downRule);
  const others = [...new Set([...ev.down.keys()].map((c) => c.server))];
  chain.fail(
    "query",
    unreachableTitle(downRule?.origin),
    "prometheus-unreachable",
    downRule
      ? `${downRule.origin}'s server ${b.url} cannot be reached: ${promDown}; the adapter's queries of its rules fail the same way (HTTP 500 "unable to fetch metrics"), and its discovery keeps the last lists (of every server) until it is back`
      : `Prometheus cannot be reached: ${promDown}; the adapter's queries fail the same way (HTTP 500 "unable to fetch metrics"), and its discovery keeps the last list until Prometheus is back`,
    unreachableFix(downRule?.origin),
    {
      backend: b,
      ...(others.length > 1 ? { details: [`not answering: ${others.join(", ")}`] } : {}),
    },
  );
}
