/**
 * @module providers/prometheus/query-shape
 * Decides whether a rendered custom-metrics query can be answered for many requests at once, and
 * builds that grouped query. Requests for one metric that differ only in the namespace and the
 * object names can share one query whose namespace and name matchers are the union of theirs and
 * whose aggregations also group by the namespace label, provided that every value of the result
 * depends only on the series of its own (namespace, object): then splitting the grouped result by
 * (namespace, name) gives exactly what each request's own query returns.
 *
 * The query is parsed with Prometheus' own lezer grammar and accepted only in shapes where that
 * holds: one vector selector holding both placeholder matchers, under per-series steps (range
 * functions such as rate or avg_over_time, per-series math, arithmetic or comparison with a number)
 * and aggregations (sum, avg, min, max, count, group, stddev, stdvar) `by` a label set holding
 * the resource label; the outermost aggregation by the resource label (and maybe the namespace)
 * alone, so each object has one value. Everything else (topk, quantile, `without`, binary
 * operations between vectors, offset, `@`, subqueries, label_replace, absent, templates that use
 * the values through LabelValuesByName) is rejected, and those requests keep their own query.
 */
import { parser } from "@prometheus-io/lezer-promql";
import { alternationRegex, renderMatcher, resourceNamesMatcher } from "../../promql/matchers.ts";
import { SHAPE_PLACEHOLDERS, type CustomQueryShape } from "./query-builder.ts";

type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

/** Aggregations whose value for a group depends only on the series of that group. */
const AGGREGATIONS = new Set(["Sum", "Avg", "Min", "Max", "Count", "Group", "Stddev", "Stdvar"]);

type Arg = "matrix" | "vector" | "number";

function table(
  plain: readonly string[],
  plainArgs: readonly (readonly Arg[])[],
  special: readonly (readonly [string, readonly (readonly Arg[])[]])[],
): ReadonlyMap<string, readonly (readonly Arg[])[]> {
  return new Map([...plain.map((f) => [f, plainArgs] as const), ...special]);
}

/** Functions of a range vector that work series by series, with their argument lists. */
const RANGE_FUNCTIONS = table(
  [
    "Rate",
    "Irate",
    "Increase",
    "Delta",
    "Idelta",
    "Deriv",
    "Changes",
    "Resets",
    "AvgOverTime",
    "MinOverTime",
    "MaxOverTime",
    "SumOverTime",
    "CountOverTime",
    "LastOverTime",
    "StddevOverTime",
    "StdvarOverTime",
    "PresentOverTime",
  ],
  [["matrix"]],
  [
    ["QuantileOverTime", [["number", "matrix"]]],
    ["PredictLinear", [["matrix", "number"]]],
  ],
);

/** Functions of an instant vector that work series by series, with their argument lists. */
const VECTOR_FUNCTIONS = table(
  ["Abs", "Ceil", "Floor", "Exp", "Ln", "Log2", "Log10", "Sqrt", "Sgn"],
  [["vector"]],
  [
    ["Round", [["vector"], ["vector", "number"]]],
    ["ClampMin", [["vector", "number"]]],
    ["ClampMax", [["vector", "number"]]],
    ["Clamp", [["vector", "number", "number"]]],
  ],
);

/** Binary operators that are per series when one side is a number. */
const SCALAR_OPERATORS = new Set([
  "Add",
  "Sub",
  "Mul",
  "Div",
  "Mod",
  "Pow",
  "Atan2",
  "Eql",
  "Neq",
  "Gtr",
  "Lss",
  "Gte",
  "Lte",
]);

/** A span of the query text to replace. */
interface Span {
  readonly from: number;
  readonly to: number;
}

/** A query shape that may be grouped, with where the union matchers and labels go. */
export interface GroupableShape {
  readonly groupable: true;
  readonly text: string;
  readonly label: string;
  readonly namespaceLabel: string | undefined;
  readonly namesMatcher: Span;
  readonly namespaceMatcher: Span | undefined;
  /** `GroupingLabels` of each aggregation that lacks the namespace label, with its labels. */
  readonly groupings: readonly (Span & { readonly labels: readonly string[] })[];
}

export interface RejectedShape {
  readonly groupable: false;
  /** Why, for debug logs and tests. */
  readonly reason: string;
}

export type QueryShape = GroupableShape | RejectedShape;

class Reject extends Error {}

function reject(reason: string): never {
  throw new Reject(reason);
}

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) {
    if (c.name !== "LineComment") out.push(c);
  }
  return out;
}

function occurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/** Walks the accepted grammar subset, collecting what {@link groupedQuery} rewrites. */
class Analysis {
  readonly #text: string;
  readonly #label: string;
  readonly #nsLabel: string | undefined;
  selectors = 0;
  namesMatcher: Span | undefined;
  namespaceMatcher: Span | undefined;
  readonly groupings: (Span & { labels: string[] })[] = [];

  constructor(text: string, label: string, nsLabel: string | undefined) {
    this.#text = text;
    this.#label = label;
    this.#nsLabel = nsLabel;
  }

  #src(n: SyntaxNode): string {
    return this.#text.slice(n.from, n.to);
  }

  /**
   * An instant-vector expression. `outer`: no aggregation between it and the result yet.
   * Returns whether an aggregation decides the result's labels.
   */
  vector(n: SyntaxNode, outer: boolean): boolean {
    switch (n.name) {
      case "ParenExpr": {
        const [inner, ...rest] = children(n);
        if (!inner || rest.length > 0) reject("unexpected parentheses");
        return this.vector(inner, outer);
      }
      case "UnaryExpr": {
        const [op, inner, ...rest] = children(n);
        if (op?.name !== "UnaryOp" || !inner || rest.length > 0) reject("unexpected unary");
        return this.vector(inner, outer);
      }
      case "BinaryExpr":
        return this.#binary(n, outer);
      case "AggregateExpr":
        return this.#aggregate(n, outer);
      case "FunctionCall":
        return this.#call(n, outer);
      case "VectorSelector":
        this.#selector(n);
        return false;
      default:
        return reject(`${n.name} is not grouped`);
    }
  }

  #binary(n: SyntaxNode, outer: boolean): boolean {
    const parts = children(n);
    const [lhs, op] = parts;
    const rhs = parts.at(-1);
    if (!lhs || !op || !rhs || parts.length < 3) reject("unexpected binary expression");
    if (!SCALAR_OPERATORS.has(op.name)) reject(`binary ${op.name} is not grouped`);
    for (const m of parts.slice(2, -1)) {
      if (m.name !== "BoolModifier") reject(`${m.name} is not grouped`);
    }
    if (isNumber(lhs)) return this.vector(rhs, outer);
    if (isNumber(rhs)) return this.vector(lhs, outer);
    return reject("binary operations between vectors are not grouped");
  }

  #aggregate(n: SyntaxNode, outer: boolean): boolean {
    const op = n.getChild("AggregateOp")?.firstChild;
    if (!op || !AGGREGATIONS.has(op.name)) reject(`aggregation ${op?.name ?? "?"} is not grouped`);
    const modifier = n.getChild("AggregateModifier");
    if (!modifier?.getChild("By")) reject("aggregations without `by` are not grouped");
    const grouping = modifier.getChild("GroupingLabels");
    if (!grouping) reject("aggregation without grouping labels");
    const labels = children(grouping).map((l) => {
      if (l.name !== "LabelName") reject(`${l.name} in grouping labels is not grouped`);
      return this.#src(l);
    });
    if (!labels.includes(this.#label)) reject(`aggregation not by the ${this.#label} label`);
    if (outer && labels.some((l) => l !== this.#label && l !== this.#nsLabel)) {
      // More than one series per object: which one a request gets would depend on result order.
      reject("the outermost aggregation groups by more than the object label");
    }
    if (this.#nsLabel !== undefined && !labels.includes(this.#nsLabel)) {
      this.groupings.push({ from: grouping.from, to: grouping.to, labels });
    }
    const body = n.getChild("FunctionCallBody");
    const args = body ? children(body) : [];
    const [arg, ...rest] = args;
    if (!arg || rest.length > 0) reject("aggregation with parameters is not grouped");
    this.vector(arg, false);
    return true;
  }

  #call(n: SyntaxNode, outer: boolean): boolean {
    const fn = n.getChild("FunctionIdentifier")?.firstChild?.name ?? "?";
    const body = n.getChild("FunctionCallBody");
    const args = body ? children(body) : [];
    const forms = RANGE_FUNCTIONS.get(fn) ?? VECTOR_FUNCTIONS.get(fn);
    if (!forms) return reject(`function ${fn} is not grouped`);
    const form = forms.find((f) => f.length === args.length);
    if (!form) return reject(`unexpected arguments of ${fn}`);
    let aggregated = false;
    args.forEach((a, i) => {
      switch (form[i]) {
        case "number":
          if (!isNumber(a)) reject(`non-literal argument of ${fn}`);
          break;
        case "matrix":
          this.#matrix(a);
          break;
        case "vector":
        case undefined:
          aggregated = this.vector(a, outer);
      }
    });
    return aggregated;
  }

  #matrix(n: SyntaxNode): void {
    if (n.name !== "MatrixSelector") reject(`${n.name} is not grouped`);
    const [sel, range, ...rest] = children(n);
    if (sel?.name !== "VectorSelector" || range?.name !== "DurationExpr" || rest.length > 0) {
      reject("unexpected range selector");
    }
    const [literal, ...more] = children(range);
    if (literal?.name !== "NumberDurationLiteralInDurationContext" || more.length > 0) {
      reject("computed ranges are not grouped");
    }
    this.#selector(sel);
  }

  #selector(n: SyntaxNode): void {
    this.selectors++;
    const matchers = n.getChild("LabelMatchers");
    for (const m of matchers ? children(matchers) : []) {
      if (m.name !== "UnquotedLabelMatcher") continue;
      const name = m.getChild("LabelName");
      const op = m.getChild("MatchOp")?.firstChild?.name;
      const value = m.getChild("StringLiteral");
      if (!name || !value || op !== "EqlSingle") continue;
      const [label, literal] = [this.#src(name), this.#src(value)];
      const span = { from: m.from, to: m.to };
      if (label === this.#label && literal === `"${SHAPE_PLACEHOLDERS.namesMatcher}"`) {
        this.namesMatcher = span;
      } else if (
        label === this.#nsLabel &&
        literal === `"${SHAPE_PLACEHOLDERS.namespaceMatcher}"`
      ) {
        this.namespaceMatcher = span;
      }
    }
  }
}

function isNumber(n: SyntaxNode): boolean {
  if (n.name === "NumberDurationLiteral") return true;
  if (n.name === "ParenExpr" || n.name === "UnaryExpr") {
    const last = children(n).at(-1);
    return last !== undefined && isNumber(last);
  }
  return false;
}

function hasError(root: SyntaxNode): boolean {
  let bad = false;
  root.cursor().iterate((c) => {
    if (c.type.isError) bad = true;
    return !bad;
  });
  return bad;
}

/** Whether (and where) `shape`, as buildCustomQueryShape rendered it, can be grouped. */
export function analyzeShape(shape: CustomQueryShape): QueryShape {
  const { text, label, namespaceLabel } = shape;
  const P = SHAPE_PLACEHOLDERS;
  try {
    if (namespaceLabel === label) reject("the object label is the namespace label");
    if (occurrences(text, P.namesValue) + occurrences(text, P.namespaceValue) > 0) {
      reject("the template uses LabelValuesByName for the namespace or the names");
    }
    if (occurrences(text, P.namesMatcher) !== 1) reject("the names matcher is not used once");
    if (namespaceLabel !== undefined && occurrences(text, P.namespaceMatcher) !== 1) {
      reject("the namespace matcher is not used once");
    }
    const tree = parser.parse(text);
    if (hasError(tree.topNode)) reject("the query does not parse");
    const [expr, ...rest] = children(tree.topNode);
    if (!expr || rest.length > 0) reject("unexpected query");
    const a = new Analysis(text, label, namespaceLabel);
    const aggregated = a.vector(expr, true);
    if (!aggregated) reject("the result is not aggregated by the object label");
    if (a.selectors !== 1) reject("more than one selector");
    if (!a.namesMatcher) reject("the names matcher is not in the selector");
    if (namespaceLabel !== undefined && !a.namespaceMatcher) {
      reject("the namespace matcher is not in the selector");
    }
    return {
      groupable: true,
      text,
      label,
      namespaceLabel,
      namesMatcher: a.namesMatcher,
      namespaceMatcher: a.namespaceMatcher,
      groupings: a.groupings,
    };
  } catch (e) {
    if (e instanceof Reject) return { groupable: false, reason: e.message };
    throw e;
  }
}

/**
 * The query for the union of `namespaces` and `names` (each sorted and unique, by the caller),
 * whose result has one series per (namespace, object).
 */
export function groupedQuery(
  shape: GroupableShape,
  namespaces: readonly string[],
  names: readonly string[],
): string {
  const edits: (Span & { text: string })[] = [
    { ...shape.namesMatcher, text: renderMatcher(resourceNamesMatcher(shape.label, names)) },
  ];
  const ns = shape.namespaceLabel;
  if (ns !== undefined && shape.namespaceMatcher) {
    const [only] = namespaces;
    edits.push({
      ...shape.namespaceMatcher,
      text: renderMatcher(
        namespaces.length === 1 && only !== undefined
          ? { name: ns, op: "=", value: only }
          : { name: ns, op: "=~", value: alternationRegex(namespaces) },
      ),
    });
    for (const g of shape.groupings) {
      edits.push({ ...g, text: `(${[...g.labels, ns].join(",")})` });
    }
  }
  let out = shape.text;
  for (const e of edits.sort((a, b) => b.from - a.from)) {
    out = out.slice(0, e.from) + e.text + out.slice(e.to);
  }
  return out;
}
