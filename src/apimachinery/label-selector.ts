/**
 * @module apimachinery/label-selector
 * Kubernetes label selectors, ported from apimachinery `pkg/labels/selector.go`: requirements,
 * their validation and error texts, `Matches` and `String()`. The HPA sends selectors rendered by
 * Go's `String()`, and prometheus-adapter echoes them back, so both directions must agree byte for
 * byte with upstream. Parsing is in `label-selector-parser.ts`, the metav1.LabelSelector echo in
 * `label-selector-json.ts`.
 */

import { goQuote } from "./go-quote.ts";
import { isQualifiedName, isValidLabelValue } from "./validation.ts";

/** selection.Operator string values, exactly as Go spells them. */
export type SelectorOperator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";

export interface Requirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Sorted and de-duplicated for in/notin (Go keeps them in a set); one value for =, ==, !=, gt, lt. */
  readonly values: readonly string[];
}

export type Labels = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

export class LabelSelectorError extends Error {
  override readonly name = "LabelSelectorError";
}

export const BINARY_OPERATORS: readonly SelectorOperator[] = [
  "in",
  "notin",
  "=",
  "==",
  "!=",
  "gt",
  "lt",
];
const ALL_OPERATORS: readonly SelectorOperator[] = [...BINARY_OPERATORS, "exists", "!"];

const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;

/** strconv.ParseInt(s, 10, 64): optional sign, decimal digits, in int64 range. */
function parseGoInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n < MIN_INT64 || n > MAX_INT64 ? undefined : n;
}

// --- field.Error formatting (pkg/util/validation/field/errors.go) ---------------------------

function invalidValue(field: string, value: string | readonly string[], detail: string): string {
  const rendered = typeof value === "string" ? goQuote(value) : JSON.stringify(value);
  return `${field}: Invalid value: ${rendered}${detail ? `: ${detail}` : ""}`;
}

/** utilerrors.NewAggregate(...).Error(): one message alone, several as "[a, b]" without repeats. */
function aggregate(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? (unique[0] ?? "") : `[${unique.join(", ")}]`;
}

export function validateKey(key: string, path: string): string | undefined {
  const errs = isQualifiedName(key);
  return errs.length > 0 ? invalidValue(path, key, errs.join("; ")) : undefined;
}

export function byteCompare(a: string, b: string): number {
  // Keys and values are validated ASCII, where UTF-16 order equals Go's byte order.
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort(byteCompare);
}

/**
 * labels.NewRequirement: validates the key, the operator/value-count combination and every value.
 * Throws LabelSelectorError with the aggregated field errors.
 */
export function newRequirement(
  key: string,
  operator: SelectorOperator,
  values: readonly string[],
): Requirement {
  const errs: string[] = [];
  const keyErr = validateKey(key, "key");
  if (keyErr) errs.push(keyErr);
  switch (operator) {
    case "in":
    case "notin":
      if (values.length === 0) {
        errs.push(
          invalidValue("values", values, "for 'in', 'notin' operators, values set can't be empty"),
        );
      }
      break;
    case "=":
    case "==":
    case "!=":
      if (values.length !== 1) {
        errs.push(
          invalidValue("values", values, "exact-match compatibility requires one single value"),
        );
      }
      break;
    case "exists":
    case "!":
      if (values.length !== 0) {
        errs.push(
          invalidValue("values", values, "values set must be empty for exists and does not exist"),
        );
      }
      break;
    case "gt":
    case "lt":
      if (values.length !== 1) {
        errs.push(
          invalidValue("values", values, "for 'Gt', 'Lt' operators, exactly one value is required"),
        );
      }
      values.forEach((v, i) => {
        if (parseGoInt64(v) === undefined) {
          errs.push(
            invalidValue(
              `values[${i}]`,
              v,
              "for 'Gt', 'Lt' operators, the value must be an integer",
            ),
          );
        }
      });
      break;
    default: {
      // Unreachable for typed callers; kept for values that arrive untyped at runtime.
      const op: string = operator;
      errs.push(
        `operator: Unsupported value: ${goQuote(op)}: supported values: ${ALL_OPERATORS.map(goQuote).join(", ")}`,
      );
    }
  }
  values.forEach((v, i) => {
    const valueErrs = isValidLabelValue(v);
    if (valueErrs.length > 0)
      errs.push(invalidValue(`values[${i}][${key}]`, v, valueErrs.join("; ")));
  });
  if (errs.length > 0) throw new LabelSelectorError(aggregate(errs));
  return { key, operator, values: [...values] };
}

function getLabel(labels: Labels, key: string): string | undefined {
  if (labels instanceof Map) return (labels as ReadonlyMap<string, string>).get(key);
  const record = labels as Readonly<Record<string, string>>;
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Requirement.Matches. */
export function requirementMatches(req: Requirement, labels: Labels): boolean {
  const value = getLabel(labels, req.key);
  switch (req.operator) {
    case "in":
    case "=":
    case "==":
      return value !== undefined && req.values.includes(value);
    case "notin":
    case "!=":
      return value === undefined || !req.values.includes(value);
    case "exists":
      return value !== undefined;
    case "!":
      return value === undefined;
    case "gt":
    case "lt": {
      if (value === undefined || req.values.length !== 1) return false;
      const have = parseGoInt64(value);
      const want = parseGoInt64(req.values[0] ?? "");
      if (have === undefined || want === undefined) return false;
      return req.operator === "gt" ? have > want : have < want;
    }
  }
}

/** Requirement.String(): `!k`, `k`, `k=v`, `k in (a,b)` with set values sorted. */
export function requirementToString(req: Requirement): string {
  let out = req.operator === "!" ? `!${req.key}` : req.key;
  switch (req.operator) {
    case "exists":
    case "!":
      return out;
    case "=":
    case "==":
    case "!=":
      out += req.operator;
      break;
    case "gt":
      out += ">";
      break;
    case "lt":
      out += "<";
      break;
    case "in":
    case "notin":
      out += ` ${req.operator} `;
      break;
  }
  const values = req.values.length === 1 ? req.values : [...req.values].sort(byteCompare);
  const joined = values.join(",");
  return req.operator === "in" || req.operator === "notin" ? `${out}(${joined})` : out + joined;
}

/** An AND of requirements, sorted by key as the Go parser leaves them. */
export class LabelSelector {
  readonly requirements: readonly Requirement[];

  constructor(requirements: readonly Requirement[]) {
    // Array.prototype.sort is stable, like the insertion sort Go uses for short selectors.
    this.requirements = [...requirements].sort((a, b) => byteCompare(a.key, b.key));
  }

  /** True when the selector does not restrict anything (`labels.Everything()`). */
  isEmpty(): boolean {
    return this.requirements.length === 0;
  }

  matches(labels: Labels): boolean {
    return this.requirements.every((r) => requirementMatches(r, labels));
  }

  /** labels.Selector.String(). */
  toString(): string {
    return this.requirements.map(requirementToString).join(",");
  }
}
