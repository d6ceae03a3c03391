/**
 * @module diagnostics/rule-probe/probe-rules
 * `validate --prometheus-url`: each rule against a real Prometheus, through the adapter's own
 * code (rule compilation, discovery, registry, query building), so what it reports is what the
 * adapter would list and send. Per rule: the series its seriesQuery selects, what its filters and
 * `name.matches` keep, the metrics and resources it gives, and for each metric one query rendered
 * for an object found in the series' labels, with its result; then the metrics two rules give.
 */
import { groupResourceString } from "../../apimachinery/group-resource.ts";
import type { Labels } from "../../prometheus/client.ts";
import { customRegistry } from "../../providers/prometheus/discovery.ts";
import type { SeriesEntry } from "../../providers/prometheus/registry.ts";
import type { CompiledRule } from "../../providers/prometheus/rules.ts";
import type { CustomMetricInfo } from "../../providers/types.ts";
import { customExample, externalExample, judge } from "./examples.ts";
import { Probe } from "./probe.ts";
import { collisionsWithin, jobLabel, noResource, unknownResources } from "./rule-checks.ts";
import type {
  ExampleQuery,
  MetricReport,
  ProbeInput,
  ProbeResult,
  Rule,
  RuleReport,
} from "./types.ts";

/** The custom metrics each rule alone would list, keyed as the registry keys them. */
function customKeys(rule: CompiledRule, series: readonly Labels[]): string[] {
  const named = series.map((s) => ({
    name: s["__name__"] ?? "",
    labels: Object.keys(s).filter((k) => k !== "__name__"),
  }));
  return customRegistry([rule], [named])
    .list()
    .map(
      (i) =>
        `${groupResourceString(i.groupResource)}\u0000${String(i.namespaced)}\u0000${i.metric}`,
    );
}

/** The resource a metric's example is queried for: pods first, as HPAs mostly ask for them. */
function exampleInfo(infos: readonly CustomMetricInfo[]): CustomMetricInfo | undefined {
  const rank = (i: CustomMetricInfo) =>
    i.groupResource.group === "" && i.groupResource.resource === "pods"
      ? 0
      : i.groupResource.resource === "namespaces"
        ? 2
        : 1;
  return [...infos].sort((a, b) => rank(a) - rank(b))[0];
}

export async function probeRules(input: ProbeInput): Promise<ProbeResult> {
  const p = new Probe(input);
  const { rules, result } = await p.discover(p.compile());
  const reports: RuleReport[] = [];
  const owners = new Map<string, Rule[]>();

  for (const r of rules) {
    const f = await p.funnel(r);
    collisionsWithin(p, r, f.kept);
    unknownResources(p, r);

    // What the adapter lists for this rule (the registry keeps the last rule's entry).
    const metrics: MetricReport[] = [];
    let notQueried = 0;
    let queried = 0;
    if (r.list === "rules") {
      for (const key of customKeys(r.compiled, f.keptSeries))
        owners.set(key, [...(owners.get(key) ?? []), r]);
      const byMetric = new Map<string, { infos: CustomMetricInfo[]; entry: SeriesEntry }>();
      for (const info of result.custom.list()) {
        const entry = result.custom.get(info);
        if (entry?.rule !== r.compiled) continue;
        const m = byMetric.get(info.metric) ?? { infos: [], entry };
        m.infos.push(info);
        byMetric.set(info.metric, m);
      }
      noResource(p, r, f.keptSeries, byMetric.size);
      jobLabel(
        p,
        r,
        [...byMetric.values()].flatMap((m) => m.infos),
      );
      for (const [metric, { infos, entry }] of [...byMetric].sort(([a], [b]) =>
        a.localeCompare(b),
      )) {
        let example: ExampleQuery | undefined;
        const info = exampleInfo(infos);
        const tried = info !== undefined && queried < input.maxQueriesPerRule;
        if (tried) {
          queried++;
          example = await customExample(p, r, info, entry, f.keptSeries);
          judge(p, r, metric, example);
        } else notQueried++;
        metrics.push({
          metric,
          seriesName: entry.seriesName,
          resources: infos.map((i) => groupResourceString(i.groupResource)).sort(),
          queried: tried,
          ...(example ? { example } : {}),
        });
      }
    } else {
      for (const name of f.kept) {
        const metric = r.compiled.namer.metricNameFor(name);
        if (metric !== undefined)
          owners.set(`external\u0000${metric}`, [
            ...new Set([...(owners.get(`external\u0000${metric}`) ?? []), r]),
          ]);
      }
      for (const { metric } of result.external
        .list()
        .sort((a, b) => a.metric.localeCompare(b.metric))) {
        const entry = result.external.get(metric);
        if (entry?.rule !== r.compiled) continue;
        let example: ExampleQuery | undefined;
        const tried = queried < input.maxQueriesPerRule;
        if (tried) {
          queried++;
          example = await externalExample(p, r, entry, f.keptSeries);
          judge(p, r, metric, example);
        } else notQueried++;
        metrics.push({
          metric,
          seriesName: entry.seriesName,
          resources: [],
          queried: tried,
          ...(example ? { example } : {}),
        });
      }
    }
    const pos = input.doc.position([r.list, r.index]);
    reports.push({
      rule: r.origin,
      line: pos.line,
      col: pos.col,
      seriesQuery: r.config.seriesQuery,
      series: f.all.length,
      names: f.names.length,
      kept: f.kept.length,
      metrics,
      notQueried,
      jobs: f.jobs,
    });
  }

  // The same metric from two rules: the registry keeps the later rule's entry.
  const clashes = new Map<
    string,
    { later: Rule; earlier: Rule[]; metric: string; resources: string[] }
  >();
  for (const [key, rs] of owners) {
    const distinct = [...new Set(rs)];
    const later = distinct[distinct.length - 1];
    if (distinct.length < 2 || !later) continue;
    const earlier = distinct.slice(0, -1);
    const parts = key.split("\u0000");
    const metric = parts[parts.length - 1] ?? "";
    const id = `${later.origin}\u0000${metric}\u0000${earlier.map((e) => e.origin).join(",")}`;
    const c = clashes.get(id) ?? { later, earlier, metric, resources: [] };
    if (later.list === "rules") c.resources.push(parts[0] ?? "");
    clashes.set(id, c);
  }
  for (const { later, earlier, metric, resources } of clashes.values()) {
    const what = resources.length > 0 ? ` for ${resources.sort().join(", ")}` : "";
    const others = earlier.map((e) => e.origin);
    p.add(
      "warning",
      "duplicate-metric",
      later.config.name?.as ? [later.list, later.index, "name", "as"] : [later.list, later.index],
      `${later.origin} gives the metric ${JSON.stringify(metric)}${what}, which ${others.join(" and ")} ${others.length === 1 ? "gives" : "give"} too; the adapter answers it from ${later.origin} only (the last rule listed wins); rename one, or narrow the seriesQuery of one so they do not overlap`,
    );
  }
  return { rules: reports, findings: p.findings };
}
