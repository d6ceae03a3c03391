/**
 * @module diagnostics/rule-probe
 * `validate --prometheus-url`: each rule against a real Prometheus, through the adapter's own
 * code (rule compilation, discovery, registry, query building), so what it reports is what the
 * adapter would list and send. Per rule: the series its seriesQuery selects, what its filters and
 * `name.matches` keep, the metrics and resources it gives, and for each metric one query rendered
 * for an object found in the series' labels, with its result.
 */
import type { GroupResource } from "../apimachinery/group-resource.ts";
import { groupResourceString } from "../apimachinery/group-resource.ts";
import { formatPath } from "../config/semantics.ts";
import type { AdapterConfig, DiscoveryRule } from "../config/schema.ts";
import type { RestMapper } from "../kube/rest-mapper.ts";
import { filterSeries, filtersForRule } from "../naming/series-filter.ts";
import type { Labels, PrometheusClient } from "../prometheus/client.ts";
import {
  customRegistry,
  discover,
  limiter,
  selectorForName,
} from "../providers/prometheus/discovery.ts";
import { isPrometheusError } from "../prometheus/errors.ts";
import { buildCustomQuery, buildExternalQuery } from "../providers/prometheus/query-builder.ts";
import type { SeriesEntry } from "../providers/prometheus/registry.ts";
import { compileRule, namingMapper, type CompiledRule } from "../providers/prometheus/rules.ts";
import type { CustomMetricInfo } from "../providers/types.ts";
import type { ConfigDocument, RuleList } from "./config-document.ts";
import type { Finding, FindingCheck, Severity } from "./findings.ts";

const NAMESPACES: GroupResource = { group: "", resource: "namespaces" };

/** Objects tried per metric before concluding that its query returns nothing. */
const CANDIDATES_PER_METRIC = 3;

export interface ExampleQuery {
  /** `pods default/web-1`, `namespaces kube-system`, or `namespace default` for external. */
  readonly object: string;
  readonly query: string;
  /** Samples the query returned. */
  readonly samples?: number;
  /** Custom metrics: samples whose resource label names the object (what the adapter answers). */
  readonly forObject?: number;
  readonly value?: number;
  readonly error?: string;
}

export interface MetricReport {
  readonly metric: string;
  readonly seriesName: string;
  /** Custom metrics: the resources it is listed for (`pods`, `namespaces`). */
  readonly resources: readonly string[];
  /** Whether an example query was attempted (false past --max-queries-per-rule). */
  readonly queried: boolean;
  readonly example?: ExampleQuery;
}

export interface RuleReport {
  /** `rules[0]`. */
  readonly rule: string;
  readonly line: number;
  readonly col: number;
  readonly seriesQuery: string;
  /** Series the seriesQuery selects within the metrics max age. */
  readonly series: number;
  /** Distinct series names among them. */
  readonly names: number;
  /** Names left after seriesFilters and name.matches. */
  readonly kept: number;
  readonly metrics: readonly MetricReport[];
  /** Metrics not queried because of the per-rule limit. */
  readonly notQueried: number;
  /** The `job` label values of the rule's series (for its scrape interval). */
  readonly jobs: readonly string[];
}

export interface ProbeInput {
  readonly config: AdapterConfig;
  readonly doc: ConfigDocument;
  readonly prometheus: PrometheusClient;
  readonly mapper: RestMapper;
  /** The mapper is the cluster's: an override naming a resource it lacks is a real problem. */
  readonly clusterMapper: boolean;
  /** Only series seen within this many ms count, as the adapter's `--metrics-max-age`. */
  readonly maxAgeMs: number;
  /** Example queries per rule, at most. */
  readonly maxQueriesPerRule: number;
  readonly now?: Date;
}

export interface ProbeResult {
  readonly rules: readonly RuleReport[];
  readonly findings: readonly Finding[];
}

interface Rule {
  readonly list: RuleList;
  readonly index: number;
  readonly origin: string;
  readonly config: DiscoveryRule;
  readonly compiled: CompiledRule;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function sample(names: readonly string[], n = 3): string {
  const shown = names.slice(0, n).join(", ");
  return names.length > n ? `${shown}, … (${String(names.length)} in all)` : shown;
}

class Probe {
  readonly findings: Finding[] = [];
  readonly #in: ProbeInput;
  readonly #limit = limiter(4);
  readonly #series = new Map<string, Promise<Labels[]>>();
  readonly #start: Date;
  readonly #now: Date;

  constructor(input: ProbeInput) {
    this.#in = input;
    this.#now = input.now ?? new Date();
    this.#start = new Date(this.#now.getTime() - input.maxAgeMs);
  }

  add(
    severity: Severity,
    check: FindingCheck,
    path: readonly PropertyKey[],
    message: string,
    atKey = false,
  ): void {
    const pos = this.#in.doc.position(path, { atKey });
    this.findings.push({ severity, check, file: this.#in.doc.file, ...pos, message });
  }

  /** The series of a seriesQuery in the max-age window, listed once per query. */
  series(query: string): Promise<Labels[]> {
    let p = this.#series.get(query);
    if (!p) {
      p = this.#limit(() => this.#in.prometheus.series([query], this.#start));
      p.catch(() => undefined);
      this.#series.set(query, p);
    }
    return p;
  }

  compile(): Rule[] {
    const nm = namingMapper(this.#in.mapper);
    const out: Rule[] = [];
    for (const list of ["rules", "externalRules"] as const) {
      (this.#in.config[list] ?? []).forEach((config, index) => {
        const origin = formatPath([list, index]);
        try {
          out.push({ list, index, origin, config, compiled: compileRule(config, origin, nm) });
        } catch (e) {
          // The loader checks the same templates; anything left is reported, not fatal.
          this.add(
            "error",
            "config",
            [list, index],
            `${origin} cannot be compiled: ${errorText(e)}`,
          );
        }
      });
    }
    return out;
  }

  /**
   * Runs discovery as the adapter does. Prometheus rejecting one seriesQuery fails the whole
   * pass (the adapter then lists nothing at all): such rules are reported and left out, so the
   * others can still be shown.
   */
  async discover(
    rules: Rule[],
  ): Promise<{ rules: Rule[]; result: Awaited<ReturnType<typeof discover>> }> {
    const run = (rs: Rule[]) =>
      discover(
        this.#in.prometheus,
        {
          custom: rs.filter((r) => r.list === "rules").map((r) => r.compiled),
          external: rs.filter((r) => r.list === "externalRules").map((r) => r.compiled),
        },
        { maxAgeMs: this.#in.maxAgeMs, now: this.#now, concurrency: 4 },
      );
    try {
      return { rules, result: await run(rules) };
    } catch (first) {
      const rejected = new Set<string>();
      for (const q of new Set(rules.map((r) => r.config.seriesQuery))) {
        try {
          await this.#in.prometheus.labelValues("__name__", [q], this.#start);
        } catch (e) {
          if (!isPrometheusError(e) || e.kind !== "api_error") throw first;
          rejected.add(q);
          for (const r of rules.filter((x) => x.config.seriesQuery === q)) {
            this.add(
              "error",
              "no-series",
              [r.list, r.index, "seriesQuery"],
              `${r.origin}.seriesQuery ${JSON.stringify(q)} is refused by Prometheus (${e.error ?? e.message}); one refused seriesQuery fails the adapter's whole discovery, so it lists no metric at all; write a series selector such as '{__name__=~"^http_.*",namespace!=""}'`,
            );
          }
        }
      }
      if (rejected.size === 0) throw first;
      const kept = rules.filter((r) => !rejected.has(r.config.seriesQuery));
      return { rules: kept, result: await run(kept) };
    }
  }

  /** What seriesQuery, seriesFilters and name.matches leave of a rule's series. */
  async funnel(r: Rule) {
    const all = await this.series(r.config.seriesQuery);
    const names = [...new Set(all.map((s) => s["__name__"] ?? ""))].sort();
    const asNames = names.map((name) => ({ name }));
    const afterFilters = filterSeries(
      filtersForRule({ seriesFilters: r.config.seriesFilters }),
      asNames,
    );
    const kept = filterSeries(r.compiled.filters, asNames).map((n) => n.name);
    const at = (k: string) => [r.list, r.index, k];
    if (all.length === 0) {
      this.add(
        "warning",
        "no-series",
        at("seriesQuery"),
        `${r.origin}.seriesQuery selects no series in Prometheus (within the last ${String(Math.round(this.#in.maxAgeMs / 60_000))}m), so the rule gives no metric; check the metric names and label matchers against /api/v1/series`,
      );
    } else if (afterFilters.length === 0) {
      this.add(
        "warning",
        "filtered-out",
        at("seriesFilters"),
        `${r.origin}.seriesFilters drop every series name the seriesQuery selects (${sample(names)}), so the rule gives no metric; loosen the filters`,
      );
    } else if (kept.length === 0) {
      this.add(
        "warning",
        "name-matches-nothing",
        [r.list, r.index, "name", "matches"],
        `${r.origin}.name.matches ${JSON.stringify(r.config.name?.matches ?? "")} matches none of the ${String(afterFilters.length)} series names left (${sample(afterFilters.map((n) => n.name))}), so the rule gives no metric; fix the regex (it is unanchored RE2, matched against the series name)`,
      );
    }
    const jobs = [
      ...new Set(all.map((s) => s["job"]).filter((j): j is string => j !== undefined)),
    ].sort();
    const keptSet = new Set(kept);
    const keptSeries = all.filter((s) => keptSet.has(s["__name__"] ?? ""));
    return { all, names, kept, keptSeries, jobs };
  }

  /** Series names of one rule that become the same metric: only one of them can answer. */
  collisionsWithin(r: Rule, kept: readonly string[]): void {
    const byMetric = new Map<string, string[]>();
    for (const name of kept) {
      const metric = r.compiled.namer.metricNameFor(name);
      if (metric === undefined) continue;
      byMetric.set(metric, [...(byMetric.get(metric) ?? []), name]);
    }
    for (const [metric, names] of byMetric) {
      if (names.length < 2) continue;
      const path = r.config.name?.as
        ? ["name", "as"]
        : r.config.name?.matches
          ? ["name", "matches"]
          : ["seriesQuery"];
      this.add(
        "warning",
        "duplicate-metric",
        [r.list, r.index, ...path],
        `${r.origin} gives the metric ${JSON.stringify(metric)} for several series names (${sample(names)}); the adapter answers it from only one of them; use a capture group in name.matches and name.as (e.g. matches: "^(.*)_total$", as: "\${1}_per_second") or narrow the seriesQuery`,
      );
    }
  }

  /** The labels of a custom rule's series map to no resource: it lists nothing. */
  noResource(r: Rule, keptSeries: readonly Labels[], produced: number): void {
    if (r.list !== "rules" || keptSeries.length === 0 || produced > 0) return;
    const labels = [...new Set(keptSeries.flatMap((s) => Object.keys(s)))]
      .filter((l) => l !== "__name__")
      .sort();
    this.add(
      "warning",
      "no-resource",
      r.config.resources ? [r.list, r.index, "resources"] : [r.list, r.index],
      `${r.origin}: none of its series' labels (${sample(labels, 8)}) maps to a Kubernetes resource, so custom.metrics.k8s.io lists none of its metrics; map the labels, e.g. resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}`,
    );
  }

  /**
   * Prometheus sets `job` to the scrape job's name; a template such as `<<.Resource>>` (the
   * config generator's default) maps it to Kubernetes Jobs, listing metrics for Jobs that do not
   * exist.
   */
  jobLabel(r: Rule, infos: readonly CustomMetricInfo[]): void {
    const jobs = infos.some(
      (i) => i.groupResource.group === "batch" && i.groupResource.resource === "jobs",
    );
    if (!jobs || r.config.resources?.overrides?.["job"] !== undefined) return;
    let label: string;
    try {
      label = r.compiled.resources.labelForResource({ group: "batch", resource: "jobs" });
    } catch {
      return;
    }
    if (label !== "job") return;
    this.add(
      "warning",
      "label-mapping",
      [r.list, r.index, "resources", "template"],
      `${r.origin}.resources.template maps Prometheus' job label (the scrape job's name, e.g. kubernetes-pods) to Kubernetes Jobs (jobs.batch), so its metrics are listed for Jobs that do not exist; map only the labels you mean with resources.overrides, e.g. {namespace: {resource: namespace}, pod: {resource: pod}}`,
    );
  }

  unknownResources(r: Rule): void {
    if (!this.#in.clusterMapper) return;
    for (const u of r.compiled.resources.unresolvedOverrides()) {
      this.add(
        "warning",
        "unknown-resource",
        [r.list, r.index, "resources", "overrides", u.label, "resource"],
        `${r.origin}.resources.overrides.${u.label} names ${u.resource}, which the cluster does not serve (${u.reason}); the label maps to nothing until it does; fix the resource name or install its CRD`,
      );
    }
  }

  /** One query for the custom metric `info`, tried on a few objects its series name. */
  async customExample(
    r: Rule,
    info: CustomMetricInfo,
    entry: SeriesEntry,
    series: readonly Labels[],
  ): Promise<ExampleQuery | undefined> {
    const res = r.compiled.resources;
    let label: string;
    let nsLabel: string | undefined;
    try {
      label = res.labelForResource(info.groupResource);
      nsLabel = info.namespaced ? res.labelForResource(NAMESPACES) : undefined;
    } catch {
      return undefined;
    }
    // Objects whose series are live now come first: the series listing also holds objects gone
    // within the max age (a deleted pod), whose query rightly returns nothing.
    const seen = new Set<string>();
    const candidates: { namespace: string; name: string }[] = [];
    const offer = (namespace: string, name: string) => {
      const key = `${namespace}/${name}`;
      if (name === "" || (nsLabel !== undefined && namespace === "") || seen.has(key)) return;
      seen.add(key);
      if (candidates.length < CANDIDATES_PER_METRIC) candidates.push({ namespace, name });
    };
    for (const s of await this.#liveObjects(r, entry.seriesName, label, nsLabel)) {
      offer(nsLabel === undefined ? "" : (s[nsLabel] ?? ""), s[label] ?? "");
    }
    for (const s of series) {
      if (s["__name__"] !== entry.seriesName) continue;
      offer(nsLabel === undefined ? "" : (s[nsLabel] ?? ""), s[label] ?? "");
    }
    let last: ExampleQuery | undefined;
    for (const c of candidates) {
      const object = `${groupResourceString(info.groupResource)} ${c.namespace === "" ? c.name : `${c.namespace}/${c.name}`}`;
      let query: string;
      try {
        query = buildCustomQuery(r.compiled.metricsQuery, res, {
          series: entry.seriesName,
          groupResource: info.groupResource,
          namespace: c.namespace,
          names: [c.name],
          metricSelector: [],
        });
      } catch (e) {
        return { object, query: "", error: errorText(e) };
      }
      last = await this.#run(object, query, (samples) => {
        const mine = samples.filter((s) => s.metric[label] === c.name);
        return { forObject: mine.length, value: mine[0]?.value[1] };
      });
      // Only an empty answer is worth another object: it may be one that is gone.
      if (last.error !== undefined || (last.samples ?? 0) > 0) return last;
    }
    return last;
  }

  /** Label sets (object label, namespace label) of the series present at the probe's time. */
  async #liveObjects(
    r: Rule,
    seriesName: string,
    label: string,
    nsLabel: string | undefined,
  ): Promise<readonly Labels[]> {
    const selector = selectorForName(r.config.seriesQuery, seriesName);
    if (selector === undefined) return [];
    const by = [label, ...(nsLabel === undefined ? [] : [nsLabel])].join(",");
    try {
      const res = await this.#limit(() =>
        this.#in.prometheus.query(`group by (${by}) (${selector})`, this.#now),
      );
      return res.resultType === "vector" ? res.result.map((x) => x.metric) : [];
    } catch {
      return [];
    }
  }

  async externalExample(
    r: Rule,
    entry: SeriesEntry,
    series: readonly Labels[],
  ): Promise<ExampleQuery | undefined> {
    let nsLabel: string | undefined;
    try {
      nsLabel = r.compiled.namespaced
        ? r.compiled.resources.labelForResource(NAMESPACES)
        : undefined;
    } catch {
      nsLabel = undefined;
    }
    const s = series.find(
      (x) =>
        x["__name__"] === entry.seriesName && (nsLabel === undefined || (x[nsLabel] ?? "") !== ""),
    );
    const namespace = nsLabel === undefined ? "" : (s?.[nsLabel] ?? "");
    const object = namespace === "" ? "any namespace" : `namespace ${namespace}`;
    let query: string;
    try {
      query = buildExternalQuery(r.compiled.metricsQuery, r.compiled.resources, {
        series: entry.seriesName,
        namespace,
        metricSelector: [],
        namespaced: r.compiled.namespaced,
      });
    } catch (e) {
      return { object, query: "", error: errorText(e) };
    }
    return this.#run(object, query, (samples) => ({ value: samples[0]?.value[1] }));
  }

  async #run(
    object: string,
    query: string,
    pick: (samples: readonly { metric: Labels; value: readonly [number, number] }[]) => {
      forObject?: number;
      value: number | undefined;
    },
  ): Promise<ExampleQuery> {
    try {
      const result = await this.#limit(() => this.#in.prometheus.query(query, this.#now));
      if (result.resultType !== "vector") {
        return { object, query, error: `Prometheus returned a ${result.resultType}, not a vector` };
      }
      const { forObject, value } = pick(result.result);
      return {
        object,
        query,
        samples: result.result.length,
        ...(forObject === undefined ? {} : { forObject }),
        ...(value === undefined ? {} : { value }),
      };
    } catch (e) {
      return { object, query, error: isPrometheusError(e) ? (e.error ?? e.message) : errorText(e) };
    }
  }

  /** Findings about one metric's example query. */
  judge(r: Rule, metric: string, ex: ExampleQuery | undefined): void {
    if (ex === undefined) return;
    const at = [r.list, r.index, "metricsQuery"];
    const fix = "check the matchers, functions and windows in metricsQuery";
    if (ex.error !== undefined) {
      this.add(
        "error",
        "query",
        at,
        `${r.origin}.metricsQuery rendered for ${metric} on ${ex.object} fails: ${ex.error}; every request for the rule's metrics fails the same way; ${fix} (rendered: ${ex.query})`,
      );
    } else if (ex.samples === 0) {
      this.add(
        "warning",
        "query",
        at,
        `${r.origin}.metricsQuery rendered for ${metric} on ${ex.object} returns no sample although its series exist, so the metric has no value; ${fix} (a rate window shorter than two scrapes returns nothing) (rendered: ${ex.query})`,
      );
    } else if (ex.forObject === 0) {
      this.add(
        "warning",
        "query",
        at,
        `${r.origin}.metricsQuery rendered for ${metric} on ${ex.object} returns ${String(ex.samples)} sample(s) but none keeps the object's label, so the adapter finds no value for it; keep <<.GroupBy>> in the query's by (…) clause (rendered: ${ex.query})`,
      );
    } else if (ex.value !== undefined && Number.isNaN(ex.value)) {
      this.add(
        "warning",
        "query",
        at,
        `${r.origin}.metricsQuery rendered for ${metric} on ${ex.object} returns NaN (a division by zero, often a ratio of idle counters), which an HPA cannot use; guard the division, e.g. … / (… > 0) (rendered: ${ex.query})`,
      );
    }
  }
}

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
    p.collisionsWithin(r, f.kept);
    p.unknownResources(r);

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
      p.noResource(r, f.keptSeries, byMetric.size);
      p.jobLabel(
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
          example = await p.customExample(r, info, entry, f.keptSeries);
          p.judge(r, metric, example);
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
          example = await p.externalExample(r, entry, f.keptSeries);
          p.judge(r, metric, example);
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
