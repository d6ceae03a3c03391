/**
 * @module promql/matchers
 * Label matchers built from Kubernetes label-selector requirements, following prometheus-adapter
 * `pkg/naming/metrics_query.go` (processQueryParts / selectMatcher / selectTargetValue) and
 * `pkg/client` (LabelEq & co., which print `name=%q`).
 *
 * Safety, where we differ from upstream on purpose:
 * - Label and metric names are validated, so a name can never carry PromQL syntax.
 * - Values are always Go-quoted, so they cannot leave their string literal.
 * - For `in`/`notin` and multi-name resource matchers, each value is regex-escaped by default, so
 *   `a.b` or `a|b` match only themselves. Upstream does not escape (it even calls a single `in`
 *   value a regex passthrough); pass `{ escapeRegex: false }` to reproduce it exactly.
 */

import type { Requirement } from "../apimachinery/label-selector.ts";
import { escapeRegex, quoteString } from "./escape.ts";

export type MatchOperator = "=" | "!=" | "=~" | "!~";

export interface LabelMatcher {
  readonly name: string;
  readonly op: MatchOperator;
  readonly value: string;
}

export interface RegexOptions {
  /** Regex-escape each value before joining with `|`. Default true; upstream behaves as false. */
  readonly escapeRegex?: boolean;
}

export class PromqlMatcherError extends Error {
  override readonly name = "PromqlMatcherError";
}

/** Upstream error texts (prometheus-adapter pkg/naming/errors.go). */
export const MATCHER_ERRORS = {
  unsupportedOperator: "operator not supported by prometheus",
  labelNotSpecified: "label not specified",
} as const;

export const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Throws unless `name` is a classic Prometheus label name. */
export function assertLabelName(name: string): void {
  if (name === "") throw new PromqlMatcherError(MATCHER_ERRORS.labelNotSpecified);
  if (!LABEL_NAME_RE.test(name)) {
    throw new PromqlMatcherError(
      `invalid label name ${quoteString(name)}: must match ${LABEL_NAME_RE.source}`,
    );
  }
}

/** Throws unless `name` is a classic Prometheus metric name. */
export function assertMetricName(name: string): void {
  if (!METRIC_NAME_RE.test(name)) {
    throw new PromqlMatcherError(
      `invalid metric name ${quoteString(name)}: must match ${METRIC_NAME_RE.source}`,
    );
  }
}

/** A validated matcher. */
export function labelMatcher(name: string, op: MatchOperator, value: string): LabelMatcher {
  assertLabelName(name);
  return { name, op, value };
}

/**
 * `name<op>"value"`, the value Go-quoted.
 *
 * @example renderMatcher({ name: "pod", op: "=~", value: "a|b" }) === 'pod=~"a|b"'
 */
export function renderMatcher(m: LabelMatcher): string {
  assertLabelName(m.name);
  return `${m.name}${m.op}${quoteString(m.value)}`;
}

/** Values joined with `|`, each regex-escaped unless `escapeRegex: false`. */
export function alternationRegex(values: readonly string[], options: RegexOptions = {}): string {
  const escape = options.escapeRegex ?? true;
  return values.map((v) => (escape ? escapeRegex(v) : v)).join("|");
}

/** Go's sets.String.List(): sorted, unique. */
function setList(values: readonly string[]): string[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * One selector requirement as a PromQL matcher (prometheus-adapter §1.3 table):
 * `k=v`/`k==v` → `k="v"`, `k!=v` → `k!="v"`, `k in (a,b)` → `k=~"a|b"`, `k notin (a)` → `k!~"a"`,
 * `k` → `k!=""`, `!k` → `k=""`; gt/lt throw "operator not supported by prometheus".
 */
export function requirementToMatcher(req: Requirement, options: RegexOptions = {}): LabelMatcher {
  if (req.key === "") throw new PromqlMatcherError(MATCHER_ERRORS.labelNotSpecified);
  switch (req.operator) {
    case "gt":
    case "lt":
      throw new PromqlMatcherError(MATCHER_ERRORS.unsupportedOperator);
    case "exists":
      return labelMatcher(req.key, "!=", "");
    case "!":
      return labelMatcher(req.key, "=", "");
    case "=":
    case "==":
    case "!=":
      if (req.values.length !== 1) {
        throw new PromqlMatcherError("exact-match operator requires exactly one value");
      }
      return labelMatcher(req.key, req.operator === "!=" ? "!=" : "=", req.values[0] ?? "");
    case "in":
    case "notin":
      if (req.values.length === 0) throw new PromqlMatcherError("operator requires values");
      return labelMatcher(
        req.key,
        req.operator === "in" ? "=~" : "!~",
        alternationRegex(setList(req.values), options),
      );
  }
}

/** Every requirement in order (callers pass them sorted by key, as the parser leaves them). */
export function requirementsToMatchers(
  reqs: readonly Requirement[],
  options: RegexOptions = {},
): LabelMatcher[] {
  return reqs.map((r) => requirementToMatcher(r, options));
}

/**
 * The resource-name matcher of Build(): `lbl="n"` for one name, `lbl=~"n1|n2"` for several, names
 * in the order given (upstream: Kubernetes list order, unescaped).
 */
export function resourceNamesMatcher(
  label: string,
  names: readonly string[],
  options: RegexOptions = {},
): LabelMatcher {
  if (names.length === 1) return labelMatcher(label, "=", names[0] ?? "");
  return labelMatcher(label, "=~", alternationRegex(names, options));
}

/** The `LabelMatchers` template value: rendered matchers joined with ",". */
export function joinMatchers(matchers: readonly LabelMatcher[]): string {
  return matchers.map(renderMatcher).join(",");
}

/**
 * A vector selector `name{m1,m2}`; just `name` when there are no matchers.
 *
 * @example metricSelector("up", [labelMatcher("job", "=", "api")]) === 'up{job="api"}'
 */
export function metricSelector(name: string, matchers: readonly LabelMatcher[]): string {
  assertMetricName(name);
  return matchers.length === 0 ? name : `${name}{${joinMatchers(matchers)}}`;
}
