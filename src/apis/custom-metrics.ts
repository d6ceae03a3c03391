/**
 * @module apis/custom-metrics
 * custom.metrics.k8s.io v1beta1 and v1beta2: routes, parameters and response shapes of
 * custom-metrics-apiserver (pkg/apiserver/installer, pkg/registry/custom_metrics/reststorage.go),
 * served from a CustomMetricsProvider.
 */
import { LabelSelectorError, type Requirement } from "../apimachinery/label-selector.ts";
import { toLabelSelectorJson } from "../apimachinery/label-selector-json.ts";
import { LabelSelectorMemo } from "../apimachinery/label-selector-memo.ts";
import { fromFloatMilli } from "../apimachinery/quantity-conversions.ts";
import { badRequest, notFound, type Status, StatusError } from "../apimachinery/status.ts";
import { formatRfc3339 } from "../apimachinery/time.ts";
import { groupResourceString, parseGroupResource } from "../apimachinery/group-resource.ts";
import type { RequestTarget } from "../apimachinery/request-target.ts";
import type { RestMapper } from "../kube/rest-mapper.ts";
import {
  type CustomMetricInfo,
  type CustomMetricValue,
  type CustomMetricsProvider,
} from "../providers/types.ts";
import { apiResourceList } from "./discovery.ts";
import { metricNotFound } from "../providers/errors.ts";
import type { ApiGroup, ApiRequest, ApiResponse } from "./types.ts";

export const CUSTOM_METRICS_GROUP = "custom.metrics.k8s.io";

/**
 * What the generic apiserver answers for an error that is not a Status (responsewriters
 * ErrorToAPIStatus): 500, the error text as the message, and no reason (StatusReasonUnknown is
 * "" and omitted). custom-metrics-apiserver returns labels.Parse's error for a bad
 * metricLabelSelector as is, so that is the body clients see.
 */
export function rawError(message: string, options?: { cause?: unknown }): StatusError {
  const status = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    code: 500,
  };
  // Status requires a reason; this one has none on purpose (see above).
  return new StatusError(status as unknown as Status, options);
}

export function routeNotFound(): StatusError {
  return new StatusError(notFound("the server could not find the requested resource", {}));
}

/** The metric request a path names, before the resource is normalized. */
export interface CustomMetricRoute {
  /** "" for root-scoped objects. */
  readonly namespace: string;
  /** As requested: `pods`, `pod`, `deployments.apps`. */
  readonly resource: string;
  /** An object name, or `*` for every object the labelSelector picks. */
  readonly name: string;
  readonly metric: string;
}

/** Splits the path after `/apis/custom.metrics.k8s.io/<version>/`; undefined for any other shape. */
export function parseCustomMetricRoute(segments: readonly string[]): CustomMetricRoute | undefined {
  const [a, b, c, d, e] = segments;
  if (segments.some((s) => s === "")) return undefined;
  if (segments.length === 3 && a && b && c)
    return { namespace: "", resource: a, name: b, metric: c };
  if (segments.length === 4 && a === "namespaces" && b && c === "metrics" && d) {
    // The namespace's own metric: the object is the namespace, asked without a namespace.
    return { namespace: "", resource: "namespaces", name: b, metric: d };
  }
  if (segments.length === 5 && a === "namespaces" && b && c && d && e) {
    return { namespace: b, resource: c, name: d, metric: e };
  }
  return undefined;
}

/**
 * The key a custom-metrics request waits under in server/arrivals.ts: `<resource>/<metric>` as the
 * path names them (one burst of an HPA fleet asks for one metric over one resource); undefined
 * for every other path.
 */
export function customMetricArrivalKey(target: RequestTarget): string | undefined {
  const s = target.segments;
  if (s[0] !== "apis" || s[1] !== CUSTOM_METRICS_GROUP) return undefined;
  const route = parseCustomMetricRoute(s.slice(3));
  return route ? `${route.resource}/${route.metric}` : undefined;
}

function selectorJson(reqs: readonly Requirement[]): unknown {
  return reqs.length === 0 ? null : toLabelSelectorJson(reqs);
}

/**
 * Shapes items for one answer. The items of a list usually share their timestamp (one query's
 * evaluation time) and metric selector (the request's), so each is formatted once per answer.
 */
function itemShaper(version: string): (v: CustomMetricValue) => unknown {
  let lastTime = Number.NaN;
  let lastTimestamp = "";
  let lastSelector: readonly Requirement[] | undefined;
  let lastSelectorJson: unknown = null;
  return (v) => {
    const ref: Record<string, string> = { kind: v.describedObject.kind };
    if (v.describedObject.namespace) ref["namespace"] = v.describedObject.namespace;
    ref["name"] = v.describedObject.name;
    ref["apiVersion"] = v.describedObject.apiVersion;
    const time = v.timestamp.getTime();
    if (time !== lastTime) {
      lastTime = time;
      lastTimestamp = formatRfc3339(v.timestamp);
    }
    if (v.selector !== lastSelector) {
      lastSelector = v.selector;
      lastSelectorJson = selectorJson(v.selector);
    }
    const timestamp = lastTimestamp;
    const value = fromFloatMilli(v.value).toString();
    if (version === "v1beta1") {
      const item: Record<string, unknown> = {
        describedObject: ref,
        metricName: v.metric,
        timestamp,
      };
      if (v.windowSeconds !== undefined) item["window"] = v.windowSeconds;
      item["value"] = value;
      item["selector"] = lastSelectorJson;
      return item;
    }
    const item: Record<string, unknown> = {
      describedObject: ref,
      metric: { name: v.metric, selector: lastSelectorJson },
      timestamp,
    };
    if (v.windowSeconds !== undefined) item["windowSeconds"] = v.windowSeconds;
    item["value"] = value;
    return item;
  };
}

export function metricValueList(version: string, items: readonly CustomMetricValue[]): unknown {
  return {
    kind: "MetricValueList",
    apiVersion: `${CUSTOM_METRICS_GROUP}/${version}`,
    metadata: {},
    items: items.map(itemShaper(version)),
  };
}

export function customMetricsApi(provider: CustomMetricsProvider, mapper: RestMapper): ApiGroup {
  // Both selectors of a request, parsed once per distinct text (an HPA sends the same each sync).
  const selectors = new LabelSelectorMemo();
  return {
    name: CUSTOM_METRICS_GROUP,
    versions: ["v1beta2", "v1beta1"],
    // Upstream's APIGroup document lists v1beta1 only, though it serves both.
    advertisedVersions: ["v1beta1"],
    resourceList(version) {
      const resources = provider.listAllMetrics().map((m: CustomMetricInfo) => ({
        name: `${groupResourceString(m.groupResource)}/${m.metric}`,
        singularName: "",
        namespaced: m.namespaced,
        kind: "MetricValueList",
        verbs: ["get"],
      }));
      return apiResourceList(CUSTOM_METRICS_GROUP, version, resources);
    },
    async handle(version, req: ApiRequest): Promise<ApiResponse> {
      // Upstream's request parser reads `namespaces/{ns}/{x}` as a collection in a namespace with
      // no object name, and refuses it before anything else.
      if (req.segments.length === 3 && req.segments[0] === "namespaces") {
        throw new StatusError(badRequest("invalid request path"));
      }
      const route = parseCustomMetricRoute(req.segments);
      if (!route) throw routeNotFound();
      // labelSelector is part of the list options every request decodes: a bad one is a 400 even
      // where only one named object is asked for.
      const selector = req.query.get("labelSelector") ?? "";
      try {
        selectors.parse(selector);
      } catch (e) {
        if (e instanceof LabelSelectorError)
          throw new StatusError(badRequest(e.message), { cause: e });
        throw e;
      }
      let metricSelector: readonly Requirement[];
      try {
        metricSelector = selectors.requirements(req.query.get("metricLabelSelector") ?? "");
      } catch (e) {
        // Upstream answers a bad metricLabelSelector with 500, a bad labelSelector with 400.
        throw rawError((e as Error).message, { cause: e });
      }
      const requested = parseGroupResource(route.resource);
      const notFoundForResource = () => metricNotFound(requested, route.metric);
      let gr;
      try {
        const info = await mapper.resourceFor(requested);
        gr = { group: info.group, resource: info.resource };
      } catch {
        throw notFoundForResource();
      }
      const info: CustomMetricInfo = {
        groupResource: gr,
        namespaced: route.namespace !== "",
        metric: route.metric,
      };
      if (route.name === "*") {
        const items = await provider.getMetricBySelector(
          route.namespace,
          selector,
          info,
          metricSelector,
          req.ticket,
        );
        return { status: 200, body: metricValueList(version, items) };
      }
      const item = await provider.getMetricByName(
        route.namespace,
        route.name,
        info,
        metricSelector,
        req.ticket,
      );
      return { status: 200, body: metricValueList(version, [item]) };
    },
  };
}
