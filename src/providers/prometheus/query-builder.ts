/**
 * @module providers/prometheus/query-builder
 * Renders a rule's metricsQuery for one request, as prometheus-adapter's metricsQuery.Build and
 * BuildExternal do (pkg/naming/metrics_query.go): matchers from the metric label selector (sorted
 * by key), then the namespace, then the resource names; every value Go-quoted, so no label value
 * can change the query's structure.
 */
import type { Requirement } from "../../apimachinery/label-selector.ts";
import type { GroupResource } from "../../apimachinery/group-resource.ts";
import type { ResourceConverter } from "../../naming/resource-label.ts";
import {
  joinMatchers,
  requirementToMatcher,
  resourceNamesMatcher,
  type LabelMatcher,
} from "../../promql/matchers.ts";
import { queryTemplateData } from "../../template/adapter-data.ts";
import type { Template } from "../../template/template.ts";

const NAMESPACES: GroupResource = { group: "", resource: "namespaces" };

export class QueryBuildError extends Error {
  override readonly name = "QueryBuildError";
}

function selectorParts(reqs: readonly Requirement[]): {
  matchers: LabelMatcher[];
  valuesByName: Map<string, string>;
} {
  const matchers: LabelMatcher[] = [];
  const valuesByName = new Map<string, string>();
  for (const r of reqs) {
    matchers.push(requirementToMatcher(r));
    // Go's sets.String.List(): unique and sorted (selector values are ASCII, so code-unit order
    // is byte order).
    valuesByName.set(r.key, [...new Set(r.values)].sort().join("|"));
  }
  return { matchers, valuesByName };
}

function render(template: Template, args: Parameters<typeof queryTemplateData>[0]): string {
  const q = template.execute(queryTemplateData(args));
  if (q === "") throw new QueryBuildError("empty query produced by metrics query template");
  return q;
}

export interface CustomQuery {
  readonly series: string;
  readonly groupResource: GroupResource;
  /** "" for root-scoped objects. */
  readonly namespace: string;
  readonly names: readonly string[];
  readonly metricSelector: readonly Requirement[];
  /** Extra group-by labels after the resource label (the container label, for resource metrics). */
  readonly extraGroupBy?: readonly string[];
}

export function buildCustomQuery(
  template: Template,
  resources: ResourceConverter,
  q: CustomQuery,
): string {
  if (q.names.length === 0) throw new QueryBuildError("no resource names requested");
  return renderCustom(template, resources, q, {
    namespace: q.namespace,
    // Raw names joined with `|`, as upstream: templates paste this value inside their own quotes,
    // so a regex-escaped `a\.b` would be an invalid PromQL escape there. The matcher is escaped.
    names: q.names.join("|"),
  });
}

/** Placeholders for {@link buildCustomQueryShape}: underscores never occur in namespace names. */
export const SHAPE_PLACEHOLDERS = {
  /** The namespace matcher's value in `LabelMatchers`. */
  namespaceMatcher: "__kcm_ns_matcher__",
  /** The resource-name matcher's value in `LabelMatchers`. */
  namesMatcher: "__kcm_names_matcher__",
  /** The namespace in `LabelValuesByName`. */
  namespaceValue: "__kcm_ns_value__",
  /** The resource names in `LabelValuesByName`. */
  namesValue: "__kcm_names_value__",
} as const;

export interface CustomQueryShape {
  /** The query with placeholders for the namespace and the names (see SHAPE_PLACEHOLDERS). */
  readonly text: string;
  /** The resource's label (`pod`). */
  readonly label: string;
  /** The namespace label, or undefined for a root-scoped request (namespace ""). */
  readonly namespaceLabel: string | undefined;
}

/**
 * The query a custom request would send, with placeholders where the namespace and the resource
 * names go: distinct placeholders in the matchers and in `LabelValuesByName`, so query grouping
 * can see whether a template uses the values anywhere else than in the matchers.
 */
export function buildCustomQueryShape(
  template: Template,
  resources: ResourceConverter,
  q: Omit<CustomQuery, "names">,
): CustomQueryShape {
  const P = SHAPE_PLACEHOLDERS;
  const text = renderCustom(
    template,
    resources,
    { ...q, namespace: q.namespace === "" ? "" : P.namespaceMatcher, names: [P.namesMatcher] },
    { namespace: P.namespaceValue, names: P.namesValue },
  );
  return {
    text,
    label: resources.labelForResource(q.groupResource),
    namespaceLabel: q.namespace === "" ? undefined : resources.labelForResource(NAMESPACES),
  };
}

/** Matchers from `q`; `LabelValuesByName` namespace and names from `values`. */
function renderCustom(
  template: Template,
  resources: ResourceConverter,
  q: CustomQuery,
  values: { readonly namespace: string; readonly names: string },
): string {
  const { matchers, valuesByName } = selectorParts(q.metricSelector);
  if (q.namespace !== "") {
    const nsLabel = resources.labelForResource(NAMESPACES);
    matchers.push({ name: nsLabel, op: "=", value: q.namespace });
    valuesByName.set(nsLabel, values.namespace);
  }
  const label = resources.labelForResource(q.groupResource);
  matchers.push(resourceNamesMatcher(label, q.names));
  valuesByName.set(label, values.names);
  const groupBy = [label, ...(q.extraGroupBy ?? [])];
  return render(template, {
    series: q.series,
    labelMatchers: joinMatchers(matchers),
    labelValuesByName: valuesByName,
    groupBy: groupBy.join(","),
    groupBySlice: groupBy,
  });
}

export interface ExternalQuery {
  readonly series: string;
  readonly namespace: string;
  readonly metricSelector: readonly Requirement[];
  /** The rule's `resources.namespaced` (default true): add the namespace matcher. */
  readonly namespaced: boolean;
}

export function buildExternalQuery(
  template: Template,
  resources: ResourceConverter,
  q: ExternalQuery,
): string {
  const { matchers, valuesByName } = selectorParts(q.metricSelector);
  if (q.namespaced && q.namespace !== "") {
    const nsLabel = resources.labelForResource(NAMESPACES);
    matchers.push({ name: nsLabel, op: "=", value: q.namespace });
    valuesByName.set(nsLabel, q.namespace);
  }
  // Upstream passes no group-by for external metrics: rules must write `by (label)` themselves.
  return render(template, {
    series: q.series,
    labelMatchers: joinMatchers(matchers),
    labelValuesByName: valuesByName,
    groupBy: "",
    groupBySlice: [],
  });
}
