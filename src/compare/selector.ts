/**
 * @module compare/selector
 * metav1.LabelSelector (JSON) to the selector string the HPA controller sends
 * (metav1.LabelSelectorAsSelector, then labels.Selector.String()).
 */
import { LabelSelector, newRequirement, type Requirement } from "../apimachinery/label-selector.ts";
import type { LabelSelectorJson } from "../apimachinery/label-selector-json.ts";

/** `undefined` or an empty selector gives "" (the parameter is then left out, as the HPA does). */
export function selectorString(s: LabelSelectorJson | null | undefined): string {
  if (!s) return "";
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) reqs.push(newRequirement(k, "=", [v]));
  for (const e of s.matchExpressions ?? []) {
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
        reqs.push(newRequirement(e.key, "in", values));
        break;
      case "NotIn":
        reqs.push(newRequirement(e.key, "notin", values));
        break;
      case "Exists":
        reqs.push(newRequirement(e.key, "exists", []));
        break;
      case "DoesNotExist":
        reqs.push(newRequirement(e.key, "!", []));
        break;
      case "Gt":
      case "Lt":
        // Not valid in a metav1.LabelSelector (LabelSelectorAsSelector refuses them).
        throw new Error(`unsupported label selector operator ${JSON.stringify(e.operator)}`);
    }
  }
  return new LabelSelector(reqs).toString();
}
