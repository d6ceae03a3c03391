/**
 * @module diagnostics/explain/rule-link
 * The rule link: which rule answers the listed metric (the last rule giving it wins, as in the
 * registry) and from which series and label; without a config, the adapter's own debug/metrics
 * says; a rule whose server does not answer is named as the cause.
 */
import { groupResourceString } from "../../apimachinery/group-resource.ts";
import type { Chain } from "./chain.ts";
import type { ExplainContext } from "./context.ts";
import { debugRule } from "./debug-routes.ts";
import type { RuleEvidence } from "./rule-evidence.ts";
import type { RuleInput } from "./rule-why.ts";
import { unreachableFix } from "./text.ts";
import type { Ask, DebugRule } from "./types.ts";

/** Where the query link takes the request's query from. */
export type RuleChoice =
  | { readonly from: "debug"; readonly debugRule: DebugRule }
  | {
      readonly from: "config";
      readonly rule: RuleInput;
      readonly seriesName: string;
      readonly label: string | undefined;
    }
  | { readonly from: "none" };

/** The rule that answers the request; undefined when this link is broken (a ✗ added). */
export async function ruleLink(
  cx: ExplainContext,
  ask: Ask,
  ev: RuleEvidence,
  chain: Chain,
): Promise<RuleChoice | undefined> {
  const { verdicts, promDown } = ev;
  const giving = (verdicts ?? []).filter((w) => w.verdict === "gives");
  const rule =
    giving.length > 0
      ? ev.rules?.find((r) => r.origin === giving[giving.length - 1]?.origin)
      : undefined;
  const entrySeries = giving[giving.length - 1]?.series;
  const seriesName = entrySeries?.[entrySeries.length - 1];
  if (rule && seriesName !== undefined) {
    let label: string | undefined;
    let mapping = "";
    if (ask.api === "custom") {
      try {
        label = rule.compiled.resources.labelForResource(ask.groupResource);
        mapping = `, label ${label} → ${groupResourceString(ask.groupResource)}`;
      } catch {
        mapping = "";
      }
    }
    chain.add(
      "rule",
      "ok",
      `rule: ${rule.origin} at ${rule.at} gives it from series ${seriesName}${mapping}${
        giving.length > 1
          ? ` (also given by ${giving
              .slice(0, -1)
              .map((g) => g.origin)
              .join(", ")}; the last wins)`
          : ""
      }`,
      { backend: ev.backendOf(rule) },
    );
    return { from: "config", rule, seriesName, label };
  }
  const fromDebug = !ev.rules && promDown === undefined ? await debugRule(cx, ask) : undefined;
  if (fromDebug) {
    chain.add(
      "rule",
      "ok",
      `rule: ${fromDebug.rule} gives it from series ${fromDebug.series} (the adapter's debug/metrics)`,
      fromDebug.server === undefined
        ? {}
        : {
            backend: {
              server: fromDebug.server,
              url: fromDebug.url ?? "",
              ...(fromDebug.headers ? { headers: fromDebug.headers } : {}),
            },
          },
    );
    return { from: "debug", debugRule: fromDebug };
  }
  if (promDown === undefined && verdicts?.some((w) => w.verdict === "unreachable")) {
    // Listed, and no rule whose server answers gives it: it comes from a rule whose server does
    // not answer (unless the adapter runs another config); the adapter's requests for it fail.
    const off = verdicts.filter((w) => w.verdict === "unreachable");
    const first = ev.rules?.find((r) => r.origin === off[0]?.origin);
    chain.fail(
      "rule",
      `rule: ${off.map((w) => w.origin).join(", ")}: its server does not answer`,
      "prometheus-unreachable",
      `no rule whose server answers gives ${JSON.stringify(ask.metric)}, so it comes from ${off.map((w) => w.origin).join(" or ")}: ${off.map((w) => w.message).join("; ")}; the adapter's queries of its rules fail (HTTP 500 "unable to fetch metrics"), and its discovery keeps the last lists until the server is back`,
      unreachableFix(first?.compiled.server ? first.origin : undefined),
      { backend: ev.backendOf(first) },
    );
    return undefined;
  }
  chain.add(
    "rule",
    "skip",
    promDown !== undefined
      ? "rule: not checked (Prometheus does not answer)"
      : ev.rules && ev.clients.length > 0
        ? "rule: none of the given config's rules gives it (the adapter runs another config?)"
        : "rule: not checked (pass --config and --prometheus-url)",
  );
  return { from: "none" };
}
