/**
 * @module server/debug-routes
 * A small read-only view of the adapter's state for `k8s-custom-metrics explain`, reached like the
 * API itself through the aggregator, so a caller needs nothing but normal RBAC:
 *
 * - `GET /apis/custom.metrics.k8s.io/<v>/debug/metrics`: discovery's state (ready, the last relist
 *   error) and, per listed metric, the rule (`rules[4]`) and the series that answer it;
 * - `GET /apis/custom.metrics.k8s.io/<v>/debug/query?metric=M&resource=pods&namespace=NS&names=a,b
 *   [&metricLabelSelector=S]` (or `external=true&metric=M&namespace=NS[&labelSelector=S]`): the
 *   rule and the PromQL the adapter would send for that request, or why it cannot build one.
 *
 * Each metric names the server its rule asks (`server`: `default` for --prometheus-url, else the
 * rule's `k8sCustomMetrics.server` host, as the `server` label of /metrics; `url`; the headers of
 * a rule's server with secret values masked). With tenants, debug/query names the tenant the
 * request's namespace is asked as, when the config decides it (mapping or default); a tenant that
 * comes from a namespace label is named as such, not read here.
 *
 * Both are resource requests (`get` on resource `debug`, name `metrics` or `query`, in
 * custom.metrics.k8s.io), authorized by the same filter as every request: grant them with
 * `{apiGroups: ["custom.metrics.k8s.io"], resources: ["debug"], verbs: ["get"]}` (a role that
 * already reads every custom metric, `resources: ["*"]`, has them). They show rule names, series
 * names and query templates, never a metric value: reading values stays with the metrics API and
 * its per-object authorization.
 */
import { groupResourceString, parseGroupResource } from "../apimachinery/group-resource.ts";
import { parseRequirements } from "../apimachinery/label-selector-parser.ts";
import type { RequestTarget } from "../apimachinery/request-target.ts";
import { badRequest, methodNotAllowed, notFound, type Status } from "../apimachinery/status.ts";
import type { Tenancy } from "../providers/prometheus/backends.ts";
import { maskHeaders } from "../prometheus/mask.ts";
import { buildCustomQuery, buildExternalQuery } from "../providers/prometheus/query-builder.ts";
import type { CustomRegistry, ExternalRegistry } from "../providers/prometheus/registry.ts";
import type { CompiledRule } from "../providers/prometheus/rules.ts";
import { DEFAULT_SERVER } from "../observability/server-label.ts";

export const DEBUG_GROUP = "custom.metrics.k8s.io";
const NAMESPACES = { group: "", resource: "namespaces" };

export interface DebugSources {
  readonly custom: () => CustomRegistry;
  readonly external: () => ExternalRegistry;
  readonly ready: () => boolean;
  readonly lastError: () => string | undefined;
  /** The config's tenants (`k8sCustomMetrics.tenants`), when the caller wires them. */
  readonly tenancy?: () => Tenancy | undefined;
  /** `--prometheus-url` without credentials, to name the default server. */
  readonly prometheusUrl?: string;
}

/** The server a rule asks, as explain shows it; header values that are credentials masked. */
function serverOf(
  src: DebugSources,
  rule: CompiledRule,
): { server: string; url: string; headers?: Record<string, string> } {
  const s = rule.server;
  if (!s) return { server: DEFAULT_SERVER, url: src.prometheusUrl ?? "--prometheus-url" };
  const h = s.options.headers;
  return { server: s.label, url: s.name, ...(h ? { headers: maskHeaders(h) } : {}) };
}

/** The tenant a namespace is asked as, as far as the config alone decides it. */
function tenantOf(src: DebugSources, namespace: string): Record<string, string> | undefined {
  const t = src.tenancy?.();
  if (!t) return undefined;
  const mapped = namespace === "" ? undefined : t.namespaces.get(namespace);
  if (mapped !== undefined) return { tenant: mapped, header: t.header, from: "namespaces" };
  if (namespace !== "" && t.namespaceLabel !== undefined) {
    const fallback = t.default === undefined ? {} : { default: t.default };
    return { header: t.header, from: `the namespace's label ${t.namespaceLabel}`, ...fallback };
  }
  if (t.default !== undefined) return { tenant: t.default, header: t.header, from: "default" };
  return { header: t.header, from: "none: the adapter answers 404 for this namespace" };
}

export interface DebugAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** Whether `target` is one of the debug routes (`/apis/custom.metrics.k8s.io/<v>/debug/…`). */
export function isDebugTarget(target: RequestTarget): boolean {
  const s = target.segments;
  return s[0] === "apis" && s[1] === DEBUG_GROUP && s.length === 5 && s[3] === "debug";
}

function status(code: number, s: Status): DebugAnswer {
  return { status: code, body: s };
}

function metricsView(src: DebugSources): unknown {
  const custom = src.custom();
  const external = src.external();
  return {
    kind: "AdapterDebugMetrics",
    ready: src.ready(),
    ...(src.lastError() === undefined ? {} : { lastError: src.lastError() }),
    custom: custom
      .list()
      .map((info) => {
        const e = custom.get(info);
        return {
          resource: groupResourceString(info.groupResource),
          namespaced: info.namespaced,
          metric: info.metric,
          rule: e?.rule.origin ?? "",
          series: e?.seriesName ?? "",
          ...(e ? serverOf(src, e.rule) : {}),
        };
      })
      .sort((a, b) => `${a.resource}/${a.metric}`.localeCompare(`${b.resource}/${b.metric}`)),
    external: external
      .list()
      .map(({ metric }) => {
        const e = external.get(metric);
        return {
          metric,
          rule: e?.rule.origin ?? "",
          series: e?.seriesName ?? "",
          ...(e ? serverOf(src, e.rule) : {}),
        };
      })
      .sort((a, b) => a.metric.localeCompare(b.metric)),
  };
}

function queryView(src: DebugSources, q: URLSearchParams): DebugAnswer {
  const metric = q.get("metric") ?? "";
  const namespace = q.get("namespace") ?? "";
  if (metric === "") return status(400, badRequest("the metric parameter is required"));
  try {
    if (q.get("external") === "true") {
      const e = src.external().get(metric);
      if (!e)
        return status(404, notFound(`no external metric ${JSON.stringify(metric)} is listed`));
      const sel = q.get("labelSelector") ?? "";
      const query = buildExternalQuery(e.rule.metricsQuery, e.rule.resources, {
        series: e.seriesName,
        namespace,
        metricSelector: sel === "" ? [] : parseRequirements(sel),
        namespaced: e.rule.namespaced,
      });
      return {
        status: 200,
        body: {
          kind: "AdapterDebugQuery",
          rule: e.rule.origin,
          series: e.seriesName,
          template: e.rule.metricsQuery.text,
          query,
          ...serverOf(src, e.rule),
          ...(tenantOf(src, namespace) ? { tenant: tenantOf(src, namespace) } : {}),
        },
      };
    }
    const gr = parseGroupResource(q.get("resource") ?? "pods");
    const names = (q.get("names") ?? "").split(",").filter((n) => n !== "");
    const namespaced = namespace !== "";
    const info = { groupResource: gr, namespaced, metric };
    const e = src.custom().get(info);
    if (!e) {
      return status(
        404,
        notFound(
          `no metric ${JSON.stringify(metric)} is listed for ${groupResourceString(gr)}${namespaced ? " in a namespace" : ""}`,
        ),
      );
    }
    const sel = q.get("metricLabelSelector") ?? "";
    const label = e.rule.resources.labelForResource(gr);
    const query = buildCustomQuery(e.rule.metricsQuery, e.rule.resources, {
      series: e.seriesName,
      groupResource: gr,
      namespace,
      names,
      metricSelector: sel === "" ? [] : parseRequirements(sel),
    });
    return {
      status: 200,
      body: {
        kind: "AdapterDebugQuery",
        rule: e.rule.origin,
        series: e.seriesName,
        label,
        namespaceLabel: namespaced ? e.rule.resources.labelForResource(NAMESPACES) : undefined,
        template: e.rule.metricsQuery.text,
        query,
        ...serverOf(src, e.rule),
        ...(tenantOf(src, namespace) ? { tenant: tenantOf(src, namespace) } : {}),
      },
    };
  } catch (err) {
    // Why the adapter cannot build this request's query: the same reason it answers 404 with.
    const why = err instanceof Error ? err.message : String(err);
    return status(400, badRequest(`the query cannot be built: ${why}`));
  }
}

/** The answer to a debug route; `target` has passed {@link isDebugTarget} and authorization. */
export function serveDebug(src: DebugSources, method: string, target: RequestTarget): DebugAnswer {
  if (method !== "GET") return status(405, methodNotAllowed());
  const route = target.segments[4];
  if (route === "metrics") return { status: 200, body: metricsView(src) };
  if (route === "query") return queryView(src, target.query);
  return status(404, notFound("no such debug route; there are debug/metrics and debug/query"));
}
