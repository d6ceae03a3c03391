/**
 * @module providers/errors
 * The errors a metrics provider answers with, as custom-metrics-apiserver's pkg/provider/errors.go
 * builds them: 404 Statuses whose messages HPA users (and `explain`, diagnostics/hpa-conditions.ts)
 * recognise. Every provider and API handler builds them here, so the wording stays one.
 */
import { groupResourceString, type GroupResource } from "../apimachinery/group-resource.ts";
import { notFound, StatusError } from "../apimachinery/status.ts";

/**
 * NewMetricNotFoundError / NewMetricNotFoundForError: "the server could not find the metric M for
 * R" or "… for R NAME". `why` is ours, appended after a colon when the adapter knows the cause.
 */
export function metricNotFound(
  resource: GroupResource,
  metric: string,
  o: { readonly name?: string | undefined; readonly why?: string | undefined } = {},
): StatusError {
  const gr = groupResourceString(resource);
  const what = o.name === undefined ? gr : `${gr} ${o.name}`;
  const why = o.why === undefined ? "" : `: ${o.why}`;
  return new StatusError(
    notFound(`the server could not find the metric ${metric} for ${what}${why}`),
  );
}

const NAMESPACES: GroupResource = { group: "", resource: "namespaces" };
const NONE: GroupResource = { group: "", resource: "" };

/**
 * An external metric no rule gives. prometheus-adapter names the group resource "namespaces" only
 * for the namespace `default` and nothing otherwise (its external provider's
 * selectGroupResource), so the message ends in "for " then: kept as upstream answers.
 */
export function externalMetricNotFound(namespace: string, metric: string): StatusError {
  return metricNotFound(namespace === "default" ? NAMESPACES : NONE, metric);
}
