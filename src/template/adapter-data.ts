/**
 * @module template/adapter-data
 * The data prometheus-adapter hands its templates, with Go's types: queryTemplateArgs for
 * `metricsQuery` (pkg/naming/metrics_query.go) and schema.GroupResource for `resources.template`
 * (pkg/naming/resource_converter.go). Typing matters for printing and `index`: LabelValuesByName is
 * a map[string]string, so a missing key indexes to "" rather than `<no value>`.
 */

import { goStringMap, goStruct } from "./values.ts";
import type { GoStruct } from "./values.ts";

export interface QueryTemplateArgs {
  readonly series: string;
  readonly labelMatchers: string;
  readonly labelValuesByName: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
  readonly groupBy: string;
  readonly groupBySlice: readonly string[];
}

export function queryTemplateData(args: QueryTemplateArgs): GoStruct {
  return goStruct("naming.queryTemplateArgs", {
    Series: args.series,
    LabelMatchers: args.labelMatchers,
    LabelValuesByName: goStringMap(args.labelValuesByName),
    GroupBy: args.groupBy,
    GroupBySlice: args.groupBySlice,
  });
}

export function resourceTemplateData(group: string, resource: string): GoStruct {
  return goStruct("schema.GroupResource", { Group: group, Resource: resource });
}
