/**
 * @module apis/resource-metrics
 * metrics.k8s.io v1beta1 (`kubectl top`, HPA Resource metrics): `nodes[/{name}]`, `pods`,
 * `namespaces/{ns}/pods[/{name}]` with `labelSelector` and `fieldSelector`, shaped as
 * metrics-server's pkg/api (node.go, pod.go) returns them. Pods and nodes come from the API
 * server; usage from a ResourceMetricsSource. An object without metrics is left out of a list
 * and is a 404 when asked for by name; one that does not exist is the lister's 404, as there.
 */
import { goQuote } from "../apimachinery/go-quote.ts";
import {
  FieldSelectorError,
  parseFieldSelector,
  type FieldSelector,
} from "../apimachinery/field-selector.ts";
import { LabelSelectorError } from "../apimachinery/label-selector.ts";
import { parseLabelSelector } from "../apimachinery/label-selector-parser.ts";
import {
  badRequest,
  internalError,
  resourceNotFound,
  StatusError,
} from "../apimachinery/status.ts";
import { formatGoDuration, formatRfc3339 } from "../apimachinery/time.ts";
import type {
  NodeRef,
  NodeUsage,
  PodRef,
  PodUsage,
  ResourceMetricsSource,
  ResourceObjects,
  ResourceUsage,
} from "../providers/resource/types.ts";
import type { Logger } from "../observability/logger.ts";
import { routeNotFound } from "./custom-metrics.ts";
import { apiResourceList } from "./discovery.ts";
import { ListMemo } from "./list-memo.ts";
import { SerializedBody, type ApiGroup, type ApiRequest, type ApiResponse } from "./types.ts";

export const RESOURCE_METRICS_GROUP = "metrics.k8s.io";
const API_VERSION = `${RESOURCE_METRICS_GROUP}/v1beta1`;
const NODE_METRICS = { group: RESOURCE_METRICS_GROUP, resource: "nodemetrics" };
const POD_METRICS = { group: RESOURCE_METRICS_GROUP, resource: "podmetrics" };
// An object that does not exist (or a pod that is not Running) is the listers' NotFound, passed
// through by metrics-server's pkg/api (node.go, pod.go): client-go's typed node lister names the
// resource "node" (listers/core/v1), the pod metadata lister "pods" (metadata/metadatalister).
const NODES = { group: "", resource: "node" };
const PODS = { group: "", resource: "pods" };
/** The fields a field selector may name: runtime.DefaultMetaV1FieldSelectorConversion. */
const SELECTABLE_FIELDS = ["metadata.name", "metadata.namespace"];

export interface ResourceMetricsApiDeps {
  readonly objects: ResourceObjects;
  readonly source: ResourceMetricsSource;
  readonly now?: () => Date;
  readonly log?: Logger;
}

/** The route a path names; undefined for any other shape. */
export type ResourceRoute =
  | { readonly kind: "nodes"; readonly name?: string }
  | { readonly kind: "pods"; readonly namespace: string; readonly name?: string };

export function parseResourceRoute(segments: readonly string[]): ResourceRoute | undefined {
  if (segments.some((s) => s === "")) return undefined;
  const [a, b, c, d] = segments;
  if (a === "nodes" && segments.length === 1) return { kind: "nodes" };
  if (a === "nodes" && segments.length === 2 && b) return { kind: "nodes", name: b };
  if (a === "pods" && segments.length === 1) return { kind: "pods", namespace: "" };
  if (a === "namespaces" && b && c === "pods") {
    if (segments.length === 3) return { kind: "pods", namespace: b };
    if (segments.length === 4 && d) return { kind: "pods", namespace: b, name: d };
  }
  return undefined;
}

function usageJson(u: ResourceUsage): unknown {
  // A ResourceList is a Go map: keys sorted.
  return { cpu: u.cpu.toString(), memory: u.memory.toString() };
}

/** Whether `o` has an own key; without building the list of keys (this runs for every item). */
function hasKeys(o: object): boolean {
  for (const k in o) if (Object.hasOwn(o, k)) return true;
  return false;
}

function meta(
  name: string,
  namespace: string | undefined,
  labels: Readonly<Record<string, string>>,
  creationTimestamp: string,
): Record<string, unknown> {
  // ObjectMeta field order: name, namespace, creationTimestamp, labels (omitempty).
  const m: Record<string, unknown> = { name };
  if (namespace !== undefined && namespace !== "") m["namespace"] = namespace;
  m["creationTimestamp"] = creationTimestamp;
  if (hasKeys(labels)) m["labels"] = labels;
  return m;
}

/** The parts of an answer that depend only on the usage: its timestamp, window and usage. */
interface UsageJson {
  readonly timestamp: string;
  readonly window: string;
  readonly usage: unknown;
}

/**
 * Usage as JSON, by usage object: a kubelet source hands out the same object for a pod or node
 * for a whole scrape round, so a round's answers format each one once and share it (entries go
 * with the round's objects). Only for a source that shares its objects (`keep`): one that builds
 * new ones for every request would only fill the map.
 */
const usageJsonCache = new WeakMap<object, UsageJson>();

function cachedUsageJson<U extends object>(
  u: U,
  keep: boolean,
  build: (u: U) => UsageJson,
): UsageJson {
  let j = keep ? usageJsonCache.get(u) : undefined;
  if (!j) {
    j = build(u);
    if (keep) usageJsonCache.set(u, j);
  }
  return j;
}

function nodeUsageJson(u: NodeUsage): UsageJson {
  return {
    timestamp: formatRfc3339(u.timestamp),
    window: formatGoDuration(u.windowNs),
    usage: usageJson(u.usage),
  };
}

function podUsageJson(u: PodUsage): UsageJson {
  return {
    timestamp: formatRfc3339(u.timestamp),
    window: formatGoDuration(u.windowNs),
    usage: u.containers.map((c) => ({ name: c.name, usage: usageJson(c.usage) })),
  };
}

/** A NodeMetrics item (`withKind` for a single-object response). */
function nodeItem(
  node: NodeRef,
  u: NodeUsage,
  created: string,
  withKind: boolean,
  keep: boolean,
): unknown {
  const j = cachedUsageJson(u, keep, nodeUsageJson);
  const item = {
    metadata: meta(node.name, undefined, node.labels, created),
    timestamp: j.timestamp,
    window: j.window,
    usage: j.usage,
  };
  return withKind ? { kind: "NodeMetrics", apiVersion: API_VERSION, ...item } : item;
}

/** A PodMetrics item (`withKind` for a single-object response). */
function podItem(
  pod: PodRef,
  u: PodUsage,
  created: string,
  withKind: boolean,
  keep: boolean,
): unknown {
  const j = cachedUsageJson(u, keep, podUsageJson);
  const item = {
    metadata: meta(pod.name, pod.namespace, pod.labels, created),
    timestamp: j.timestamp,
    window: j.window,
    containers: j.usage,
  };
  return withKind ? { kind: "PodMetrics", apiVersion: API_VERSION, ...item } : item;
}

function listJson(kind: string, items: readonly unknown[]): unknown {
  return { kind, apiVersion: API_VERSION, metadata: {}, items };
}

function selectors(q: URLSearchParams): { label: string; field: FieldSelector } {
  const label = q.get("labelSelector") ?? "";
  try {
    parseLabelSelector(label);
    const field = parseFieldSelector(q.get("fieldSelector") ?? "");
    // The generic apiserver converts each field label (in the parsed order) before listing;
    // metrics.k8s.io registers no conversion, so the default one rejects all but metadata's.
    const unknown = field.requirements.find((r) => !SELECTABLE_FIELDS.includes(r.field));
    if (unknown) {
      throw new StatusError(
        badRequest(
          `${goQuote(unknown.field)} is not a known field selector: only ${SELECTABLE_FIELDS.map(goQuote).join(", ")}`,
        ),
      );
    }
    return { label, field };
  } catch (e) {
    if (e instanceof LabelSelectorError || e instanceof FieldSelectorError) {
      throw new StatusError(badRequest(e.message), { cause: e });
    }
    throw e;
  }
}

/** metrics-server filters the listed metadata in memory: only metadata fields can match. */
function fieldsOf(o: { name: string; namespace?: string }): Record<string, string> {
  return { "metadata.name": o.name, "metadata.namespace": o.namespace ?? "" };
}

/**
 * A failed object lookup answers as metrics-server's "failed listing pods"; the cause (an API
 * server address, a socket error) goes to the log, never to the client.
 */
async function listing<T>(p: Promise<T>, what: "pods" | "nodes", log?: Logger): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof StatusError) throw e;
    log?.error({ err: String(e) }, `failed listing ${what}`);
    throw new StatusError(internalError(`failed listing ${what}`), { cause: e });
  }
}

function byNamespaceThenName(
  a: { namespace?: string; name: string },
  b: { namespace?: string; name: string },
): number {
  const an = a.namespace ?? "";
  const bn = b.namespace ?? "";
  if (an !== bn) return an < bn ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function resourceMetricsApi(deps: ResourceMetricsApiDeps): ApiGroup {
  const now = deps.now ?? (() => new Date());
  // Pod lists only: nodes are listed from the API server afresh for every request, so their
  // inputs are never the same objects twice.
  const podLists = new ListMemo();
  // Only a source that hands out the same usage objects can give the same answer again; keeping
  // what is built from the others' would only hold it in memory (and past young GCs).
  const keep = deps.source.sharesUsage === true;
  return {
    name: RESOURCE_METRICS_GROUP,
    versions: ["v1beta1"],
    advertisedVersions: ["v1beta1"],
    resourceList(version) {
      return apiResourceList(RESOURCE_METRICS_GROUP, version, [
        {
          name: "nodes",
          singularName: "",
          namespaced: false,
          kind: "NodeMetrics",
          verbs: ["get", "list"],
        },
        {
          name: "pods",
          singularName: "",
          namespaced: true,
          kind: "PodMetrics",
          verbs: ["get", "list"],
        },
      ]);
    },
    async handle(_version, req: ApiRequest): Promise<ApiResponse> {
      const route = parseResourceRoute(req.segments);
      if (!route) throw routeNotFound();
      if (route.kind === "nodes") {
        if (route.name !== undefined) {
          const name = route.name;
          const node = await listing(deps.objects.getNode(name), "nodes", deps.log);
          if (!node) throw new StatusError(resourceNotFound(NODES, name));
          const [u] = await deps.source.nodeMetrics([node]);
          if (!u) throw new StatusError(resourceNotFound(NODE_METRICS, name));
          return { status: 200, body: nodeItem(node, u, formatRfc3339(now()), true, keep) };
        }
        const sel = selectors(req.query);
        const nodes = (await listing(deps.objects.listNodes(sel.label), "nodes", deps.log))
          .filter((n) => sel.field.matches(fieldsOf(n)))
          .sort(byNamespaceThenName);
        const usage = await deps.source.nodeMetrics(nodes);
        const created = formatRfc3339(now());
        const items: unknown[] = [];
        nodes.forEach((n, i) => {
          const u = usage[i];
          if (u) items.push(nodeItem(n, u, created, false, keep));
        });
        return { status: 200, body: listJson("NodeMetricsList", items) };
      }
      if (route.name !== undefined) {
        const { namespace, name } = route;
        const pod = await listing(deps.objects.getPod(namespace, name), "pods", deps.log);
        if (!pod) throw new StatusError(resourceNotFound(PODS, name));
        const [u] = await deps.source.podMetrics([pod]);
        if (!u) throw new StatusError(resourceNotFound(POD_METRICS, `${namespace}/${name}`));
        return { status: 200, body: podItem(pod, u, formatRfc3339(now()), true, keep) };
      }
      const sel = selectors(req.query);
      const pods = (
        await listing(deps.objects.listPods(route.namespace, sel.label), "pods", deps.log)
      ).filter((p) => sel.field.matches(fieldsOf(p)));
      const usage = await deps.source.podMetrics(pods);
      const created = formatRfc3339(now());
      // Listed order is the cache's; the memo compares it as listed, the answer is sorted.
      const key = keep
        ? JSON.stringify([route.namespace, sel.label, req.query.get("fieldSelector") ?? ""])
        : "";
      const kept = keep ? podLists.get(key, created, [pods, usage]) : undefined;
      if (kept) return { status: 200, body: kept };
      const rows: { pod: PodRef; usage: PodUsage }[] = [];
      pods.forEach((pod, i) => {
        const u = usage[i];
        if (u) rows.push({ pod, usage: u });
      });
      rows.sort((a, b) => byNamespaceThenName(a.pod, b.pod));
      const items = rows.map((r) => podItem(r.pod, r.usage, created, false, keep));
      const body = new SerializedBody(JSON.stringify(listJson("PodMetricsList", items)));
      if (keep) podLists.set(key, created, [pods, usage], body);
      return { status: 200, body };
    },
  };
}
