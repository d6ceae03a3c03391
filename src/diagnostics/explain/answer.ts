/**
 * @module diagnostics/explain/answer
 * The answer link: the request sent as the HPA controller sends it, through the aggregator to the
 * adapter; an error is read for its cause (the adapter may not list the objects, its query
 * failed, the caller may not read the metric, the adapter is unreachable, no value).
 */
import { groupResourceString } from "../../apimachinery/group-resource.ts";
import { KubeApiError } from "../../kube/client.ts";
import type { Chain } from "./chain.ts";
import type { ExplainContext } from "./context.ts";
import { errorText, milli, sample } from "./text.ts";
import { CUSTOM, EXTERNAL, VALIDATE, type Answer, type Ask } from "./types.ts";

interface MetricValueList {
  items?: {
    describedObject?: { name?: string };
    metricLabels?: Record<string, string>;
    value?: string;
  }[];
}

/** Why the adapter refuses the request, from its status and message. */
function refusal(
  ask: Ask,
  status: number,
  msg: string,
): { kind: string; cause: string; fix: string } {
  if (/unable to list matching resources/.test(msg)) {
    const what = /may not list "([^"]+)"/.exec(msg)?.[1] ?? groupResourceString(ask.groupResource);
    return {
      kind: "adapter-list-forbidden",
      cause: `the adapter may not list the ${what} the request selects: ${msg}`,
      fix: `give the adapter's service account list on ${what}: a ClusterRole rule bound to it (deploy/base/rbac.yaml, k8s-custom-metrics-resource-reader), then retry`,
    };
  }
  if (/unable to fetch metrics/.test(msg)) {
    return {
      kind: "adapter-query-failed",
      cause: `the adapter's query to Prometheus fails: ${msg}`,
      fix: "check Prometheus is up and reachable from the adapter (--prometheus-url); read the adapter's log for the query",
    };
  }
  if (status === 403) {
    return {
      kind: "forbidden",
      cause: `you may not read this metric: ${msg}`,
      fix: `ask for get on ${ask.api === "external" ? EXTERNAL : CUSTOM} (the HPA controller has it through system:controller:horizontal-pod-autoscaler)`,
    };
  }
  if (status === 503) {
    return {
      kind: "api-unavailable",
      cause: `the API server cannot reach the adapter: ${msg}`,
      fix: "k8s-custom-metrics doctor",
    };
  }
  if (status === 404) {
    const badKey = (ask.metricSelector || (ask.api === "external" ? ask.labelSelector : ""))
      .split(",")
      .map((r) => /^\s*!?\s*([^=!<>\s(]+)/.exec(r)?.[1] ?? "")
      .find((k) => k !== "" && !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k));
    return {
      kind: "no-samples",
      cause: `the adapter finds no value for ${ask.object === "*" ? "any of the objects" : ask.object}: ${msg}${badKey === undefined ? "" : `; the metric selector's key ${JSON.stringify(badKey)} is no Prometheus label name, so no query can be built for it`}`,
      fix: `run \`${VALIDATE}\`, or pass --config and --prometheus-url to see the rendered query and its result`,
    };
  }
  return {
    kind: "answer-error",
    cause: `the adapter answers HTTP ${String(status)}: ${msg}`,
    fix: "read the adapter's log for this request",
  };
}

export async function answerLink(
  cx: ExplainContext,
  ask: Ask,
  path: string,
  names: readonly string[],
  chain: Chain,
): Promise<Answer | undefined> {
  let body: MetricValueList;
  try {
    body = await cx.kube.json("GET", path);
  } catch (e) {
    const status = e instanceof KubeApiError ? e.status : 0;
    const { kind, cause, fix } = refusal(ask, status, errorText(e));
    chain.fail("answer", `the adapter answers HTTP ${String(status)}`, kind, cause, fix, {
      details: [`GET ${path}`],
    });
    return undefined;
  }
  const values = new Map<string, number>();
  const lines: string[] = [];
  for (const it of body.items ?? []) {
    const name = it.describedObject?.name ?? JSON.stringify(it.metricLabels ?? {});
    const m = milli(it.value ?? "0");
    values.set(name, (values.get(name) ?? 0) + m);
    lines.push(`${name} = ${it.value ?? "?"}`);
  }
  if (values.size === 0) {
    chain.fail(
      "answer",
      "the adapter answers an empty list",
      "no-samples",
      "no value for any of the objects asked",
      `pass --config and --prometheus-url to see the rendered query and its result`,
      { details: [`GET ${path}`] },
    );
    return undefined;
  }
  const missing =
    ask.api === "custom" && ask.object === "*" ? names.filter((n) => !values.has(n)) : [];
  chain.add(
    "answer",
    missing.length > 0 ? "warn" : "ok",
    `the adapter answers ${String(body.items?.length ?? 0)} value(s)${missing.length > 0 ? `, none for ${sample(missing)}` : ""}`,
    { details: [`GET ${path}`, ...lines.slice(0, 10)] },
  );
  return { values };
}
