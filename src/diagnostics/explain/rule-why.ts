/**
 * @module diagnostics/explain/rule-why
 * For `explain`, when the adapter does not list a metric: which rules could have given it and why
 * none did, rule by rule, through the adapter's own code (series filters, the name regex, the
 * resource mapping, the registry): the seriesQuery selects no series (or Prometheus refuses it),
 * a filter drops the series name, `name.matches`/`as` never yield the metric, or its series lack
 * the label that maps to the resource asked for.
 */
import { groupResourceString, type GroupResource } from "../../apimachinery/group-resource.ts";
import { closestKey } from "../../config/suggest.ts";
import type { DiscoveryRule } from "../../config/schema.ts";
import { filterSeries, filtersForRule } from "../../naming/series-filter.ts";
import type { Labels, PrometheusClient } from "../../prometheus/client.ts";
import { customRegistry } from "../../providers/prometheus/discovery.ts";
import { isPrometheusError } from "../../prometheus/errors.ts";
import type { CompiledRule } from "../../providers/prometheus/rules.ts";

export interface RuleInput {
  /** `rules[4]`. */
  readonly origin: string;
  /** `file:line:col` of the rule. */
  readonly at: string;
  readonly config: DiscoveryRule;
  readonly compiled: CompiledRule;
}

export type RuleVerdict =
  | "gives"
  | "missing-label"
  | "no-mapping"
  | "filtered"
  | "name"
  | "no-series"
  | "rejected"
  | "unreachable";

export interface RuleWhy {
  readonly origin: string;
  readonly at: string;
  readonly verdict: RuleVerdict;
  readonly message: string;
  /** For "name": the metric name among the rule's that is closest to the one asked for. */
  readonly closest?: string;
  /** For "gives": the series names that give the metric (the registry keeps the last). */
  readonly series?: readonly string[];
}

export type WhyTarget =
  | { readonly kind: "custom"; readonly groupResource: GroupResource }
  | { readonly kind: "external" };

const RANK: Readonly<Record<RuleVerdict, number>> = {
  gives: 0,
  "missing-label": 1,
  "no-mapping": 2,
  filtered: 3,
  name: 4,
  "no-series": 5,
  rejected: 6,
  unreachable: 7,
};

function sample(xs: readonly string[], n = 3): string {
  const shown = xs.slice(0, n).join(", ");
  return xs.length > n ? `${shown}, … (${String(xs.length)} in all)` : shown;
}

function errorText(e: unknown): string {
  if (isPrometheusError(e)) return e.error ?? e.message;
  return e instanceof Error ? e.message : String(e);
}

async function one(
  r: RuleInput,
  prometheus: PrometheusClient,
  metric: string,
  target: WhyTarget,
  since: Date,
): Promise<RuleWhy> {
  const base = { origin: r.origin, at: r.at };
  let series: Labels[];
  try {
    series = await prometheus.series([r.config.seriesQuery], since);
  } catch (e) {
    if (isPrometheusError(e) && (e.kind === "unreachable" || e.kind === "timeout")) {
      return {
        ...base,
        verdict: "unreachable",
        message: `its server ${prometheus.server} does not answer: ${errorText(e)}`,
      };
    }
    return {
      ...base,
      verdict: "rejected",
      message: `Prometheus refuses its seriesQuery ${JSON.stringify(r.config.seriesQuery)}: ${errorText(e)}`,
    };
  }
  if (series.length === 0) {
    return {
      ...base,
      verdict: "no-series",
      message: `its seriesQuery ${JSON.stringify(r.config.seriesQuery)} matched no series`,
    };
  }
  const names = [...new Set(series.map((s) => s["__name__"] ?? ""))].sort();
  const producing = names.filter((n) => r.compiled.namer.metricNameFor(n) === metric);
  if (producing.length === 0) {
    const given = [
      ...new Set(
        filterSeries(
          r.compiled.filters,
          names.map((name) => ({ name })),
        )
          .map((n) => r.compiled.namer.metricNameFor(n.name))
          .filter((m): m is string => m !== undefined),
      ),
    ].sort();
    const closest = closestKey(metric, given);
    const matches = r.config.name?.matches ?? "";
    return {
      ...base,
      verdict: "name",
      message: `no series name it selects becomes ${JSON.stringify(metric)} through name.matches ${JSON.stringify(matches === "" ? ".*" : matches)}${r.config.name?.as ? ` and as ${JSON.stringify(r.config.name.as)}` : ""} (it gives ${given.length === 0 ? "nothing" : sample(given)})${closest !== undefined && closest !== metric ? `; did you mean ${JSON.stringify(closest)}?` : ""}`,
      ...(closest === undefined ? {} : { closest }),
    };
  }
  const kept = filterSeries(
    filtersForRule({ seriesFilters: r.config.seriesFilters }),
    producing.map((name) => ({ name })),
  ).map((n) => n.name);
  if (kept.length === 0) {
    const filters = (r.config.seriesFilters ?? []).map((f) => JSON.stringify(f)).join(", ");
    return {
      ...base,
      verdict: "filtered",
      message: `the series ${sample(producing)} would give ${JSON.stringify(metric)}, but its seriesFilters (${filters}) drop them`,
    };
  }
  const keptSeries = series.filter((s) => kept.includes(s["__name__"] ?? ""));
  if (target.kind === "external") {
    return {
      ...base,
      verdict: "gives",
      message: `gives ${JSON.stringify(metric)} from ${sample(kept)}`,
      series: kept,
    };
  }
  const named = keptSeries.map((s) => ({
    name: s["__name__"] ?? "",
    labels: Object.keys(s).filter((k) => k !== "__name__"),
  }));
  const registry = customRegistry([r.compiled], [named]);
  const gr = target.groupResource;
  const listed = registry
    .list()
    .some(
      (i) =>
        i.metric === metric &&
        i.groupResource.group === gr.group &&
        i.groupResource.resource === gr.resource,
    );
  if (listed) {
    return {
      ...base,
      verdict: "gives",
      message: `gives ${JSON.stringify(metric)} for ${groupResourceString(gr)} from ${sample(kept)}`,
      series: kept,
    };
  }
  let label: string;
  try {
    label = r.compiled.resources.labelForResource(gr);
  } catch {
    return {
      ...base,
      verdict: "no-mapping",
      message: `its resources block maps no label to ${groupResourceString(gr)}, so ${JSON.stringify(metric)} is listed for ${
        sample([
          ...new Set(
            registry
              .list()
              .filter((i) => i.metric === metric)
              .map((i) => groupResourceString(i.groupResource)),
          ),
        ]) || "nothing"
      } only; add an override, e.g. resources: {overrides: {${gr.resource.replace(/s$/, "")}: {resource: ${gr.resource.replace(/s$/, "")}}}}`,
    };
  }
  const labels = [...new Set(keptSeries.flatMap((s) => Object.keys(s)))]
    .filter((l) => l !== "__name__")
    .sort();
  return {
    ...base,
    verdict: "missing-label",
    message: `the series ${sample(kept)} would give ${JSON.stringify(metric)}, but none carries the label ${JSON.stringify(label)} that maps to ${groupResourceString(gr)} (their labels: ${sample(labels, 8)}); relabel the scrape so the series keep ${label} (e.g. honor_labels, or a relabeling from __meta_kubernetes_pod_name), or map the label they have`,
  };
}

/** Every rule's verdict, the most relevant first (one that gives it, then the nearest miss). */
export async function whyNotListed(
  rules: readonly RuleInput[],
  prometheus: PrometheusClient | ((rule: RuleInput) => PrometheusClient | undefined),
  metric: string,
  target: WhyTarget,
  since: Date,
): Promise<RuleWhy[]> {
  // Each rule on its own server (and tenant); a rule without a client is not judged.
  const clientOf = typeof prometheus === "function" ? prometheus : () => prometheus;
  const out = await Promise.all(
    rules.flatMap((r) => {
      const c = clientOf(r);
      return c === undefined ? [] : [one(r, c, metric, target, since)];
    }),
  );
  const distance = (w: RuleWhy) =>
    w.verdict === "name" && w.closest !== undefined ? levenshtein(w.closest, metric) : 1e9;
  return out
    .map((w, i) => ({ w, i }))
    .sort(
      (a, b) => RANK[a.w.verdict] - RANK[b.w.verdict] || distance(a.w) - distance(b.w) || a.i - b.i,
    )
    .map((x) => x.w);
}

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] ?? 0;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] ?? 0;
      prev[j] = Math.min(up + 1, (prev[j - 1] ?? 0) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] ?? 0;
}
