/**
 * @module diagnostics/rule-probe/probe
 * The probe's state and its first steps: the findings so far, each seriesQuery's series listed
 * once, the rules compiled as the adapter compiles them, discovery run as the adapter runs it
 * (leaving out the seriesQueries Prometheus refuses), and what a rule's filters keep.
 */
import type { AdapterConfig } from "../../config/schema.ts";
import { formatPath } from "../../config/semantics.ts";
import type { RestMapper } from "../../kube/rest-mapper.ts";
import { filterSeries, filtersForRule } from "../../naming/series-filter.ts";
import type { Labels } from "../../prometheus/client.ts";
import { isPrometheusError } from "../../prometheus/errors.ts";
import { discover, limiter } from "../../providers/prometheus/discovery.ts";
import { compileRule, namingMapper } from "../../providers/prometheus/rules.ts";
import type { Finding, FindingCheck, Severity } from "../findings.ts";
import { errorText, sample, type ProbeInput, type Rule } from "./types.ts";

/** Every rule of `config` compiled as the adapter compiles it; `failed` hears of the others. */
export function compileEach(
  config: AdapterConfig,
  mapper: RestMapper,
  failed: (rule: Omit<Rule, "compiled">, e: unknown) => void,
): Rule[] {
  const nm = namingMapper(mapper);
  const out: Rule[] = [];
  for (const list of ["rules", "externalRules"] as const) {
    (config[list] ?? []).forEach((rule, index) => {
      const origin = formatPath([list, index]);
      try {
        out.push({ list, index, origin, config: rule, compiled: compileRule(rule, origin, nm) });
      } catch (e) {
        failed({ list, index, origin, config: rule }, e);
      }
    });
  }
  return out;
}

export class Probe {
  readonly findings: Finding[] = [];
  readonly input: ProbeInput;
  /** At most four requests to Prometheus at once, as the adapter's discovery. */
  readonly limit = limiter(4);
  readonly #series = new Map<string, Promise<Labels[]>>();
  readonly start: Date;
  readonly now: Date;

  constructor(input: ProbeInput) {
    this.input = input;
    this.now = input.now ?? new Date();
    this.start = new Date(this.now.getTime() - input.maxAgeMs);
  }

  add(
    severity: Severity,
    check: FindingCheck,
    path: readonly PropertyKey[],
    message: string,
    atKey = false,
  ): void {
    const pos = this.input.doc.position(path, { atKey });
    this.findings.push({ severity, check, file: this.input.doc.file, ...pos, message });
  }

  /** The series of a seriesQuery in the max-age window, listed once per query. */
  series(query: string): Promise<Labels[]> {
    let p = this.#series.get(query);
    if (!p) {
      p = this.limit(() => this.input.prometheus.series([query], this.start));
      p.catch(() => undefined);
      this.#series.set(query, p);
    }
    return p;
  }

  compile(): Rule[] {
    return compileEach(this.input.config, this.input.mapper, (r, e) => {
      // The loader checks the same templates; anything left is reported, not fatal.
      this.add(
        "error",
        "config",
        [r.list, r.index],
        `${r.origin} cannot be compiled: ${errorText(e)}`,
      );
    });
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
        this.input.prometheus,
        {
          custom: rs.filter((r) => r.list === "rules").map((r) => r.compiled),
          external: rs.filter((r) => r.list === "externalRules").map((r) => r.compiled),
        },
        { maxAgeMs: this.input.maxAgeMs, now: this.now, concurrency: 4 },
      );
    try {
      return { rules, result: await run(rules) };
    } catch (first) {
      const rejected = new Set<string>();
      for (const q of new Set(rules.map((r) => r.config.seriesQuery))) {
        try {
          await this.input.prometheus.labelValues("__name__", [q], this.start);
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
        `${r.origin}.seriesQuery selects no series in Prometheus (within the last ${String(Math.round(this.input.maxAgeMs / 60_000))}m), so the rule gives no metric; check the metric names and label matchers against /api/v1/series`,
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
}
