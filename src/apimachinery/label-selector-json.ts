/**
 * @module apimachinery/label-selector-json
 * The metav1.LabelSelector (JSON) that prometheus-adapter echoes for a parsed label selector.
 */

import { byteCompare, sortedUnique, type Requirement } from "./label-selector.ts";

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
