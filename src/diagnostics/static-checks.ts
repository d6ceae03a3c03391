/**
 * @module diagnostics/static-checks
 * Problems `validate` finds in the file alone, beyond what the loader rejects or warns about:
 * rules that give the same metric name, and rate windows shorter than two scrape intervals.
 */
import { formatPromDuration } from "../config/duration.ts";
import { formatPath } from "../config/semantics.ts";
import type { DiscoveryRule } from "../config/schema.ts";
import type { ConfigDocument, RuleList } from "./config-document.ts";
import type { Finding } from "./findings.ts";
import { rateWindows } from "./rate-windows.ts";

/** A scrape interval and where it comes from, for messages. */
export interface ScrapeInterval {
  readonly ms: number;
  /** e.g. `Prometheus' default scrape_interval`, `job kubelet-cadvisor`. */
  readonly source: string;
}

/** Prometheus' own default `scrape_interval`: the assumption when nothing better is known. */
export const DEFAULT_SCRAPE_INTERVAL: ScrapeInterval = {
  ms: 60_000,
  source:
    "Prometheus' default scrape_interval, assumed offline; pass --prometheus-url to read the real one, or --scrape-interval",
};

function finding(
  doc: ConfigDocument,
  path: readonly PropertyKey[],
  check: Finding["check"],
  message: string,
  pos = doc.position(path),
): Finding {
  return { severity: "warning", check, file: doc.file, ...pos, message };
}

/** The metric name a rule gives every series, when its `name.as` is plain text. */
function literalName(rule: DiscoveryRule): string | undefined {
  const as = rule.name?.as ?? "";
  return as !== "" && !as.includes("$") ? as : undefined;
}

/** The rule as it affects listing, for spotting copies. */
function ruleKey(rule: DiscoveryRule): string {
  return JSON.stringify([
    rule.seriesQuery,
    rule.seriesFilters ?? [],
    rule.name ?? {},
    rule.resources ?? {},
    rule.metricsQuery,
  ]);
}

/**
 * Rules of one list that give the same metric name whatever the series: the same plain-text
 * `name.as`, or the whole rule repeated. For a resource both rules' series carry, only the later
 * rule answers (prometheus-adapter keeps the last one listed).
 */
export function duplicateNames(doc: ConfigDocument, list: RuleList): Finding[] {
  const out: Finding[] = [];
  const rules = doc.rules(list);
  const firstByName = new Map<string, number>();
  const firstByKey = new Map<string, number>();
  rules.forEach((rule, k) => {
    if (rule === undefined) return;
    const key = ruleKey(rule);
    const copyOf = firstByKey.get(key);
    if (copyOf !== undefined) {
      out.push(
        finding(
          doc,
          [list, k],
          "duplicate-metric",
          `${formatPath([list, k])} repeats ${formatPath([list, copyOf])}, so every metric it gives is listed twice and only one answers; remove one of them`,
        ),
      );
      return;
    }
    firstByKey.set(key, k);
    const name = literalName(rule);
    if (name === undefined) return;
    const first = firstByName.get(name);
    if (first === undefined) {
      firstByName.set(name, k);
      return;
    }
    const where =
      list === "rules"
        ? "for a resource both rules' series carry, only this later rule answers"
        : "only this later rule answers it";
    out.push(
      finding(
        doc,
        [list, k, "name", "as"],
        "duplicate-metric",
        `${formatPath([list, k, "name", "as"])} ${JSON.stringify(name)} is also the metric name of ${formatPath([list, first])}; ${where} (the last rule listed wins); give each rule its own name`,
      ),
    );
  });
  return out;
}

/** A query template in the config: its path and its text. */
interface QueryAt {
  readonly path: readonly PropertyKey[];
  readonly text: string;
  /** The rule the query belongs to (`rules[2]`), for per-rule scrape intervals. */
  readonly rule: readonly PropertyKey[];
}

/** Every query template of the config that has the right shape. */
export function queryTemplates(doc: ConfigDocument): QueryAt[] {
  const out: QueryAt[] = [];
  for (const list of ["rules", "externalRules"] as const) {
    doc.rules(list).forEach((rule, k) => {
      if (rule !== undefined && rule.metricsQuery !== "") {
        out.push({ path: [list, k, "metricsQuery"], text: rule.metricsQuery, rule: [list, k] });
      }
    });
  }
  const rr = doc.resourceRules();
  for (const res of ["cpu", "memory"] as const) {
    const r = rr?.[res];
    if (r === undefined) continue;
    for (const q of ["containerQuery", "nodeQuery"] as const) {
      out.push({ path: ["resourceRules", res, q], text: r[q], rule: ["resourceRules", res] });
    }
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Windows of rate-like functions shorter than two scrape intervals. `intervalFor` gives the
 * interval of the series a rule reads (by the rule's path); undefined skips the rule.
 */
export function shortRateWindows(
  doc: ConfigDocument,
  intervalFor: (rule: readonly PropertyKey[]) => ScrapeInterval | undefined,
): Finding[] {
  const out: Finding[] = [];
  for (const q of queryTemplates(doc)) {
    const windows = rateWindows(q.text);
    if (windows.length === 0) continue;
    const interval = intervalFor(q.rule);
    if (interval === undefined) continue;
    let from = 0;
    for (const w of windows) {
      const at = doc.positionIn(
        q.path,
        new RegExp(`\\[\\s*${escapeRegExp(w.text)}\\s*[\\]:]`),
        from,
      );
      from = at.next;
      if (w.ms >= 2 * interval.ms) continue;
      const least = formatPromDuration(2 * interval.ms);
      const safer = formatPromDuration(4 * interval.ms);
      out.push(
        finding(
          doc,
          q.path,
          "rate-window",
          `${formatPath(q.path)}: ${w.fn}(…[${w.text}]) covers less than two scrape intervals (${formatPromDuration(interval.ms)}: ${interval.source}), so the window often holds a single sample and ${w.fn} returns nothing: the metric is listed but has no value, or flaps; widen it to at least [${least}] ([${safer}] also survives a missed scrape)`,
          { line: at.line, col: at.col },
        ),
      );
    }
  }
  return out;
}
