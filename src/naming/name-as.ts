/**
 * @module naming/name-as
 * Series name → API metric name, as prometheus-adapter's `name: {matches, as}` does it
 * (upstream pkg/naming/metric_namer.go: `FindStringSubmatchIndex` then `Regexp.ExpandString`).
 * The expansion rules are Go's, quirks included: `$1_total` names the group "1_total".
 */
import { compileRe2, findSubmatchIndex, type Re2Regex } from "./re2.ts";
import { NamingError } from "./errors.ts";

export interface NameMappingInput {
  readonly matches?: string | undefined;
  readonly as?: string | undefined;
}

export interface MetricNamer {
  /** The compiled `name.matches` (`.*` when empty). */
  readonly matches: Re2Regex;
  /** The effective `name.as` (the default filled in). */
  readonly as: string;
  /** The API metric name for a series name, or undefined when `matches` does not match. */
  metricNameFor(seriesName: string): string | undefined;
}

/**
 * The implicit `as`: `$0` with no capture groups, `$1` with one; undefined with two or more,
 * where upstream refuses to guess. Named groups count like unnamed ones.
 */
export function defaultNameAs(matches: Re2Regex): string | undefined {
  if (matches.groupCount === 0) return "$0";
  if (matches.groupCount === 1) return "$1";
  return undefined;
}

const NAME_CHAR = /^[\p{L}\p{Nd}_]/u;

/**
 * Go regexp `extract`: reads `name` or `{name}` after a `$`. Returns the name, whether it is a
 * group number (no leading zeros, below 1e8), and how many characters were consumed, or
 * undefined when malformed (the `$` is then copied as text).
 */
function extractRef(s: string): { name: string; num: number; length: number } | undefined {
  const brace = s.startsWith("{");
  let i = brace ? 1 : 0;
  const start = i;
  while (i < s.length) {
    const m = NAME_CHAR.exec(s.slice(i));
    if (m === null) break;
    i += m[0].length;
  }
  if (i === start) return undefined;
  const name = s.slice(start, i);
  if (brace) {
    if (s[i] !== "}") return undefined;
    i++;
  }
  let num = /^[0-9]+$/.test(name) && name.length <= 9 ? Number(name) : -1;
  if (name.length > 1 && name.startsWith("0")) num = -1;
  return { name, num, length: i };
}

/**
 * Go `Regexp.ExpandString(nil, template, src, match)`: `$$` is `$`, `$n`/`${n}` a group by number,
 * `$name`/`${name}` a group by name (names are greedy over letters, digits and `_`); unknown or
 * unmatched groups expand to "" and a malformed `$` is kept.
 */
export function expandTemplate(
  re: Re2Regex,
  template: string,
  src: string,
  match: readonly (readonly [number, number] | undefined)[],
): string {
  let out = "";
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf("$");
    if (dollar < 0) break;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith("$")) {
      out += "$";
      rest = rest.slice(1);
      continue;
    }
    const ref = extractRef(rest);
    if (ref === undefined) {
      out += "$";
      continue;
    }
    rest = rest.slice(ref.length);
    const index = ref.num >= 0 ? ref.num : re.groupNames.indexOf(ref.name);
    const span = index >= 0 ? match[index] : undefined;
    if (span !== undefined) out += src.slice(span[0], span[1]);
  }
  return out + rest;
}

/**
 * Builds the namer for one rule's `name` block; throws {@link NamingError} for a bad regex or a
 * missing `as` with two or more groups (upstream's message, with the series query).
 */
export function createMetricNamer(name: NameMappingInput, seriesQuery = ""): MetricNamer {
  const matchesSrc = name.matches ?? "";
  let matches: Re2Regex;
  try {
    matches = compileRe2(matchesSrc === "" ? ".*" : matchesSrc);
  } catch (e) {
    throw new NamingError(
      `unable to compile series name match expression ${JSON.stringify(matchesSrc)} associated with series query ${JSON.stringify(seriesQuery)}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  const as = name.as !== undefined && name.as !== "" ? name.as : defaultNameAs(matches);
  if (as === undefined) {
    throw new NamingError(
      `must specify an 'as' value for name matcher ${JSON.stringify(matchesSrc)} associated with series query ${JSON.stringify(seriesQuery)}`,
    );
  }
  return {
    matches,
    as,
    metricNameFor(seriesName: string): string | undefined {
      const m = findSubmatchIndex(matches, seriesName);
      return m === undefined ? undefined : expandTemplate(matches, as, seriesName, m);
    },
  };
}
