/**
 * @module apimachinery/label-selector
 * Kubernetes label selectors, ported from apimachinery `pkg/labels/selector.go`: the same lexer,
 * parser, validation, error texts, `Matches` and `String()`. The HPA sends selectors rendered by
 * Go's `String()`, and prometheus-adapter echoes them back, so both directions must agree byte for
 * byte with upstream.
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

const BINARY_OPERATORS: readonly SelectorOperator[] = ["in", "notin", "=", "==", "!=", "gt", "lt"];
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

function validateKey(key: string, path: string): string | undefined {
  const errs = isQualifiedName(key);
  return errs.length > 0 ? invalidValue(path, key, errs.join("; ")) : undefined;
}

function byteCompare(a: string, b: string): number {
  // Keys and values are validated ASCII, where UTF-16 order equals Go's byte order.
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedUnique(values: readonly string[]): string[] {
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

// --- Lexer (selector.go Lexer) ---------------------------------------------------------------

type Token =
  | "error"
  | "eos"
  | ")"
  | ","
  | "!"
  | "=="
  | "="
  | ">"
  | "identifier"
  | "in"
  | "<"
  | "!="
  | "notin"
  | "(";

interface ScannedItem {
  readonly tok: Token;
  readonly literal: string;
}

const STRING_TO_TOKEN: ReadonlyMap<string, Token> = new Map<string, Token>([
  [")", ")"],
  [",", ","],
  ["!", "!"],
  ["==", "=="],
  ["=", "="],
  [">", ">"],
  ["in", "in"],
  ["<", "<"],
  ["!=", "!="],
  ["notin", "notin"],
  ["(", "("],
]);

function isWhitespace(ch: string): boolean {
  return ch === " " || ch === "\t" || ch === "\r" || ch === "\n";
}

function isSpecialSymbol(ch: string): boolean {
  return "=!(),><".includes(ch) && ch.length === 1;
}

const OPERATOR_TOKENS: ReadonlyMap<Token, SelectorOperator> = new Map<Token, SelectorOperator>([
  ["in", "in"],
  ["=", "="],
  ["==", "=="],
  [">", "gt"],
  ["<", "lt"],
  ["notin", "notin"],
  ["!=", "!="],
]);

/** Go's lexer reads bytes and treats a 0 byte as end of input; "\0" plays that role here. */
const END = "\0";

class Lexer {
  private pos = 0;
  private readonly s: string;

  constructor(s: string) {
    this.s = s;
  }

  private read(): string {
    if (this.pos < this.s.length) {
      const ch = this.s[this.pos] ?? END;
      this.pos++;
      return ch;
    }
    return END;
  }

  private unread(): void {
    this.pos--;
  }

  private scanIdOrKeyword(): ScannedItem {
    let buffer = "";
    for (;;) {
      const ch = this.read();
      if (ch === END) break;
      if (isSpecialSymbol(ch) || isWhitespace(ch)) {
        this.unread();
        break;
      }
      buffer += ch;
    }
    const tok = STRING_TO_TOKEN.get(buffer);
    return tok ? { tok, literal: buffer } : { tok: "identifier", literal: buffer };
  }

  private scanSpecialSymbol(): ScannedItem {
    let last: ScannedItem | undefined;
    let buffer = "";
    for (;;) {
      const ch = this.read();
      if (ch === END) break;
      if (!isSpecialSymbol(ch)) {
        this.unread();
        break;
      }
      buffer += ch;
      const tok = STRING_TO_TOKEN.get(buffer);
      if (tok) {
        last = { tok, literal: buffer };
      } else if (last) {
        this.unread();
        break;
      }
    }
    return last ?? { tok: "error", literal: `error expected: keyword found '${buffer}'` };
  }

  lex(): ScannedItem {
    let ch = this.read();
    while (isWhitespace(ch)) ch = this.read();
    if (ch === END) return { tok: "eos", literal: "" };
    this.unread();
    return isSpecialSymbol(ch) ? this.scanSpecialSymbol() : this.scanIdOrKeyword();
  }
}

// --- Parser (selector.go Parser) -------------------------------------------------------------

/** In a Values context, `in` and `notin` are ordinary identifiers ("x in (in)" is valid). */
type Context = "keyAndOperator" | "values";

class Parser {
  private readonly items: ScannedItem[] = [];
  private position = 0;

  constructor(input: string) {
    const lexer = new Lexer(input);
    for (;;) {
      const item = lexer.lex();
      this.items.push(item);
      if (item.tok === "eos") break;
    }
  }

  private at(index: number, context: Context): ScannedItem {
    // The scan always ends with eos and the parser never reads past it.
    const item = this.items[index] ?? { tok: "eos", literal: "" };
    if (context === "values" && (item.tok === "in" || item.tok === "notin")) {
      return { tok: "identifier", literal: item.literal };
    }
    return item;
  }

  private lookahead(context: Context): ScannedItem {
    return this.at(this.position, context);
  }

  private consume(context: Context): ScannedItem {
    this.position++;
    return this.at(this.position - 1, context);
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const { tok, literal } = this.lookahead("values");
      if (tok === "eos") return requirements;
      if (tok !== "identifier" && tok !== "!") {
        throw new LabelSelectorError(
          `found '${literal}', expected: !, identifier, or 'end of string'`,
        );
      }
      let req: Requirement;
      try {
        req = this.parseRequirement();
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new LabelSelectorError(`unable to parse requirement: ${message}`, { cause: err });
      }
      requirements.push(req);
      const next = this.consume("values");
      if (next.tok === "eos") return requirements;
      if (next.tok !== ",") {
        throw new LabelSelectorError(`found '${next.literal}', expected: ',' or 'end of string'`);
      }
      const after = this.lookahead("values");
      if (after.tok !== "identifier" && after.tok !== "!") {
        throw new LabelSelectorError(`found '${after.literal}', expected: identifier after ','`);
      }
    }
  }

  private parseRequirement(): Requirement {
    const { key, operator } = this.parseKeyAndInferOperator();
    if (operator === "exists" || operator === "!") return newRequirement(key, operator, []);
    const op = this.parseOperator();
    const values = op === "in" || op === "notin" ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, op, sortedUnique(values));
  }

  private parseKeyAndInferOperator(): { key: string; operator: SelectorOperator | undefined } {
    let operator: SelectorOperator | undefined;
    let item = this.consume("values");
    if (item.tok === "!") {
      operator = "!";
      item = this.consume("values");
    }
    if (item.tok !== "identifier") {
      throw new LabelSelectorError(`found '${item.literal}', expected: identifier`);
    }
    // Upstream validates here with a nil field path, which prints as "<nil>".
    const keyErr = validateKey(item.literal, "<nil>");
    if (keyErr) throw new LabelSelectorError(keyErr);
    const next = this.lookahead("values").tok;
    if ((next === "eos" || next === ",") && operator !== "!") operator = "exists";
    return { key: item.literal, operator };
  }

  private parseOperator(): SelectorOperator {
    const { tok, literal } = this.consume("keyAndOperator");
    const op = OPERATOR_TOKENS.get(tok);
    if (op === undefined) {
      throw new LabelSelectorError(`found '${literal}', expected: ${BINARY_OPERATORS.join(", ")}`);
    }
    return op;
  }

  private parseValues(): string[] {
    const open = this.consume("values");
    if (open.tok !== "(") throw new LabelSelectorError(`found '${open.literal}' expected: '('`);
    const { tok, literal } = this.lookahead("values");
    if (tok === ")") {
      this.consume("values");
      return [""];
    }
    if (tok !== "identifier" && tok !== ",") {
      throw new LabelSelectorError(`found '${literal}', expected: ',', ')' or identifier`);
    }
    const values = this.parseIdentifiersList();
    if (this.consume("values").tok !== ")") {
      // Upstream reports the token after '(' here, not the offending one.
      throw new LabelSelectorError(`found '${literal}', expected: ')'`);
    }
    return values;
  }

  private parseIdentifiersList(): string[] {
    const values = new Set<string>();
    for (;;) {
      const { tok, literal } = this.consume("values");
      if (tok === "identifier") {
        values.add(literal);
        const next = this.lookahead("values");
        if (next.tok === ",") continue;
        if (next.tok === ")") return [...values];
        throw new LabelSelectorError(`found '${next.literal}', expected: ',' or ')'`);
      }
      if (tok !== ",") {
        throw new LabelSelectorError(`found '${literal}', expected: ',', or identifier`);
      }
      // "(," ",)" and ",," each stand for an empty value.
      if (values.size === 0) values.add("");
      const next = this.lookahead("values").tok;
      if (next === ")") {
        values.add("");
        return [...values];
      }
      if (next === ",") {
        this.consume("values");
        values.add("");
      }
    }
  }

  private parseExactValue(): string[] {
    const next = this.lookahead("values").tok;
    if (next === "eos" || next === ",") return [""];
    const { tok, literal } = this.consume("values");
    if (tok === "identifier") return [literal];
    throw new LabelSelectorError(`found '${literal}', expected: identifier`);
  }
}

/**
 * labels.ParseToRequirements: the requirements sorted by key. Throws LabelSelectorError.
 *
 * @example parseRequirements("tier in (web,db),!canary")
 */
export function parseRequirements(selector: string): Requirement[] {
  return [...new LabelSelector(new Parser(selector).parse()).requirements];
}

/**
 * labels.Parse. Throws LabelSelectorError with upstream's message.
 *
 * @example parseLabelSelector("app=web,env!=dev").matches({ app: "web" }) === true
 */
export function parseLabelSelector(selector: string): LabelSelector {
  return new LabelSelector(new Parser(selector).parse());
}

// --- metav1.LabelSelector echo ---------------------------------------------------------------

export type LabelSelectorJsonOperator = "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt";

export interface LabelSelectorRequirementJson {
  key: string;
  operator: LabelSelectorJsonOperator;
  values?: string[];
}

export interface LabelSelectorJson {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirementJson[];
}

/**
 * The metav1.LabelSelector that prometheus-adapter echoes as `selector` (metav1.ParseToLabelSelector):
 * `=`/`==` go to matchLabels, `!=` becomes NotIn with its one value, empty fields are omitted like
 * Go's omitempty, and no requirements give `null` (the adapter leaves the pointer nil then).
 * Deviation: upstream rejects gt/lt here; we emit `Gt`/`Lt` (in practice the adapter has already
 * refused gt/lt when building the query).
 */
export function toLabelSelectorJson(reqs: readonly Requirement[]): LabelSelectorJson | null {
  if (reqs.length === 0) return null;
  const matchLabels = new Map<string, string>();
  const matchExpressions: LabelSelectorRequirementJson[] = [];
  const ops = {
    in: "In",
    notin: "NotIn",
    "!=": "NotIn",
    exists: "Exists",
    "!": "DoesNotExist",
    gt: "Gt",
    lt: "Lt",
  } as const;
  for (const req of reqs) {
    if (req.operator === "=" || req.operator === "==") {
      matchLabels.set(req.key, req.values[0] ?? "");
      continue;
    }
    const expr: LabelSelectorRequirementJson = { key: req.key, operator: ops[req.operator] };
    const values = sortedUnique(req.values);
    if (values.length > 0) expr.values = values;
    matchExpressions.push(expr);
  }
  const out: LabelSelectorJson = {};
  if (matchLabels.size > 0) {
    // encoding/json writes map keys sorted.
    out.matchLabels = Object.fromEntries([...matchLabels].sort(([a], [b]) => byteCompare(a, b)));
  }
  if (matchExpressions.length > 0) out.matchExpressions = matchExpressions;
  return out;
}
