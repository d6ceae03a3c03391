/**
 * @module diagnostics/rate-windows
 * The range windows a query template gives to functions that need two samples in their window
 * (`rate`, `irate`, `increase`, `delta`, …). A window shorter than two scrape intervals often holds
 * one sample, and then the function returns nothing: the metric is listed but has no value, or
 * flaps between a value and none.
 *
 * The template is rendered with stand-in values and parsed with Prometheus' own grammar, so only
 * real range selectors count (not a `[5m]` inside a label value or a comment).
 */
import { parser } from "@prometheus-io/lezer-promql";
import { parsePromDuration } from "../config/duration.ts";
import { compileQueryTemplate } from "../providers/prometheus/rules.ts";
import { queryTemplateData } from "../template/adapter-data.ts";

type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

/** Functions whose result needs at least two samples inside the window. */
export const TWO_SAMPLE_FUNCTIONS: ReadonlySet<string> = new Set([
  "rate",
  "irate",
  "increase",
  "delta",
  "idelta",
  "deriv",
  "predict_linear",
]);

export interface RangeWindow {
  /** The function the window is given to. */
  readonly fn: string;
  /** The duration as written, e.g. `30s`. */
  readonly text: string;
  readonly ms: number;
}

const STAND_IN = "kcm_validate_label";

/** The query a template renders for one object, with neutral stand-in values. */
function renderWithStandIns(template: string): string | undefined {
  try {
    const t = compileQueryTemplate(template, "metrics-query");
    return t.execute(
      queryTemplateData({
        series: "kcm_validate_series",
        labelMatchers: `${STAND_IN}="x"`,
        labelValuesByName: { [STAND_IN]: "x" },
        groupBy: STAND_IN,
        groupBySlice: [STAND_IN],
      }),
    );
  } catch {
    // Templates that do not render are the loader's to report.
    return undefined;
  }
}

/** Milliseconds of a window's duration; Prometheus 3 also takes a bare number of seconds. */
function windowMs(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  try {
    return parsePromDuration(text);
  } catch {
    return undefined;
  }
}

/** The matrix selector a function argument reads, through parentheses and `offset`/`@`. */
function matrixOf(arg: SyntaxNode | null): SyntaxNode | undefined {
  let n = arg;
  while (
    n &&
    (n.name === "ParenExpr" || n.name === "OffsetExpr" || n.name === "StepInvariantExpr")
  ) {
    n = n.firstChild;
  }
  return n?.name === "MatrixSelector" ? n : undefined;
}

/** Every window given to a two-sample function in the query the template renders. */
export function rateWindows(template: string): RangeWindow[] {
  const query = renderWithStandIns(template);
  if (query === undefined || query.trim() === "") return [];
  const tree = parser.parse(query);
  const out: RangeWindow[] = [];
  const state = { broken: false };
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) state.broken = true;
      if (ref.name !== "FunctionCall") return;
      const node = ref.node;
      const ident = node.getChild("FunctionIdentifier");
      const fn = ident ? query.slice(ident.from, ident.to) : "";
      if (!TWO_SAMPLE_FUNCTIONS.has(fn)) return;
      const body = node.getChild("FunctionCallBody");
      const first = body?.firstChild ?? null;
      const matrix = matrixOf(first);
      const duration = matrix?.getChild("DurationExpr");
      if (!duration) return;
      const text = query.slice(duration.from, duration.to).trim();
      const ms = windowMs(text);
      if (ms !== undefined) out.push({ fn, text, ms });
    },
  });
  // A query Prometheus cannot parse fails on its own; its windows would be guesses.
  return state.broken ? [] : out;
}
