/**
 * @module naming/series-filter
 * `seriesFilters` (`is` / `isNot`, unanchored RE2 on the series name, AND-ed) plus the implicit
 * `is` filter that a non-empty `name.matches` adds (upstream pkg/naming/metric_namer.go,
 * NewReMatcher and NamersFromConfig).
 */
import { compileRe2, re2Matches, type Re2Regex } from "./re2.ts";
import { NamingError } from "./errors.ts";

export interface RegexFilterInput {
  readonly is?: string | undefined;
  readonly isNot?: string | undefined;
}

export interface SeriesFilter {
  readonly regex: Re2Regex;
  /** true for `is`, false for `isNot`. */
  readonly positive: boolean;
}

/** One filter; exactly one of `is` / `isNot` must be non-empty (upstream's messages). */
export function createSeriesFilter(cfg: RegexFilterInput): SeriesFilter {
  const is = cfg.is ?? "";
  const isNot = cfg.isNot ?? "";
  if (is !== "" && isNot !== "") {
    throw new NamingError(
      `cannot have both an \`is\` (${JSON.stringify(is)}) and \`isNot\` (${JSON.stringify(isNot)}) expression in a single filter`,
    );
  }
  if (is === "" && isNot === "") {
    throw new NamingError("must have either an `is` or `isNot` expression in a filter");
  }
  const raw = is !== "" ? is : isNot;
  try {
    return { regex: compileRe2(raw), positive: is !== "" };
  } catch (e) {
    throw new NamingError(
      `unable to compile series filter ${JSON.stringify(raw)}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}

/** Whether a series name passes one filter. */
export function matchesFilter(filter: SeriesFilter, seriesName: string): boolean {
  return re2Matches(filter.regex, seriesName) === filter.positive;
}

/** The filters of one rule: its `seriesFilters` in order, then `is: name.matches` if set. */
export function filtersForRule(rule: {
  readonly seriesFilters?: readonly RegexFilterInput[] | undefined;
  readonly name?: { readonly matches?: string | undefined } | undefined;
}): SeriesFilter[] {
  const filters = (rule.seriesFilters ?? []).map(createSeriesFilter);
  const matches = rule.name?.matches ?? "";
  if (matches !== "") filters.push(createSeriesFilter({ is: matches }));
  return filters;
}

/** Keeps the series whose name passes every filter, in input order. */
export function filterSeries<T extends { readonly name: string }>(
  filters: readonly SeriesFilter[],
  series: readonly T[],
): T[] {
  return series.filter((s) => filters.every((f) => matchesFilter(f, s.name)));
}
