/**
 * @module apis/openapi
 * OpenAPI documents of the served groups: `/openapi/v2` (Swagger 2.0, merged by the aggregator into
 * the cluster's spec) and `/openapi/v3` (an index plus one OpenAPI 3.0 document per group-version).
 * Type names follow the Go packages (k8s.io/metrics), as kube-openapi names them.
 */
import { createHash } from "node:crypto";

type Schema = Record<string, unknown>;

const META = "io.k8s.apimachinery.pkg.apis.meta.v1";
const ref = (name: string, v3: boolean) => ({
  $ref: `${v3 ? "#/components/schemas/" : "#/definitions/"}${name}`,
});

/** Shared apimachinery types, trimmed to what our documents reference. */
function common(v3: boolean): Record<string, Schema> {
  return {
    [`${META}.ListMeta`]: {
      type: "object",
      properties: {
        resourceVersion: { type: "string" },
        continue: { type: "string" },
        remainingItemCount: { type: "integer", format: "int64" },
      },
    },
    [`${META}.Time`]: { type: "string", format: "date-time" },
    [`${META}.LabelSelector`]: {
      type: "object",
      properties: {
        matchLabels: { type: "object", additionalProperties: { type: "string" } },
        matchExpressions: {
          type: "array",
          items: {
            type: "object",
            required: ["key", "operator"],
            properties: {
              key: { type: "string" },
              operator: { type: "string" },
              values: { type: "array", items: { type: "string" } },
            },
          },
        },
      },
    },
    "io.k8s.apimachinery.pkg.api.resource.Quantity": { type: "string" },
    "io.k8s.api.core.v1.ObjectReference": {
      type: "object",
      properties: Object.fromEntries(
        ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"].map(
          (k) => [k, { type: "string" }],
        ),
      ),
    },
    [`${META}.Status`]: {
      type: "object",
      properties: {
        kind: { type: "string" },
        apiVersion: { type: "string" },
        status: { type: "string" },
        message: { type: "string" },
        reason: { type: "string" },
        code: { type: "integer", format: "int32" },
        details: { type: "object" },
        metadata: ref(`${META}.ListMeta`, v3),
      },
    },
  };
}

export interface GroupVersionDoc {
  readonly group: string;
  readonly version: string;
  readonly schemas: (v3: boolean) => Record<string, Schema>;
  /** Path templates below `/apis/<group>/<version>/`, with the list type each returns. */
  readonly paths: readonly {
    readonly path: string;
    readonly returns: string;
    readonly list: boolean;
  }[];
}

function listOf(
  itemType: string,
  kind: string,
  group: string,
  version: string,
  v3: boolean,
): Schema {
  return {
    type: "object",
    required: ["items", "metadata"],
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: ref(`${META}.ListMeta`, v3),
      items: { type: "array", items: ref(itemType, v3) },
    },
    "x-kubernetes-group-version-kind": [{ group, version, kind }],
  };
}

function customMetricsDoc(version: "v1beta1" | "v1beta2"): GroupVersionDoc {
  const group = "custom.metrics.k8s.io";
  const pkg = `io.k8s.metrics.pkg.apis.custom_metrics.${version}`;
  return {
    group,
    version,
    schemas: (v3) => {
      const value: Schema =
        version === "v1beta1"
          ? {
              type: "object",
              required: ["describedObject", "metricName", "timestamp", "value"],
              properties: {
                describedObject: ref("io.k8s.api.core.v1.ObjectReference", v3),
                metricName: { type: "string" },
                timestamp: ref(`${META}.Time`, v3),
                window: { type: "integer", format: "int64" },
                value: ref("io.k8s.apimachinery.pkg.api.resource.Quantity", v3),
                selector: ref(`${META}.LabelSelector`, v3),
              },
            }
          : {
              type: "object",
              required: ["describedObject", "metric", "timestamp", "value"],
              properties: {
                describedObject: ref("io.k8s.api.core.v1.ObjectReference", v3),
                metric: {
                  type: "object",
                  required: ["name"],
                  properties: {
                    name: { type: "string" },
                    selector: ref(`${META}.LabelSelector`, v3),
                  },
                },
                timestamp: ref(`${META}.Time`, v3),
                windowSeconds: { type: "integer", format: "int64" },
                value: ref("io.k8s.apimachinery.pkg.api.resource.Quantity", v3),
              },
            };
      return {
        [`${pkg}.MetricValue`]: value,
        [`${pkg}.MetricValueList`]: listOf(
          `${pkg}.MetricValue`,
          "MetricValueList",
          group,
          version,
          v3,
        ),
      };
    },
    paths: [
      {
        path: "namespaces/{namespace}/{resource}/{name}/{metric}",
        returns: `${pkg}.MetricValueList`,
        list: false,
      },
      {
        path: "namespaces/{namespace}/metrics/{metric}",
        returns: `${pkg}.MetricValueList`,
        list: false,
      },
      { path: "{resource}/{name}/{metric}", returns: `${pkg}.MetricValueList`, list: false },
    ],
  };
}

function externalMetricsDoc(): GroupVersionDoc {
  const group = "external.metrics.k8s.io";
  const version = "v1beta1";
  const pkg = "io.k8s.metrics.pkg.apis.external_metrics.v1beta1";
  return {
    group,
    version,
    schemas: (v3) => ({
      [`${pkg}.ExternalMetricValue`]: {
        type: "object",
        required: ["metricName", "metricLabels", "timestamp", "value"],
        properties: {
          metricName: { type: "string" },
          metricLabels: { type: "object", additionalProperties: { type: "string" } },
          timestamp: ref(`${META}.Time`, v3),
          window: { type: "integer", format: "int64" },
          value: ref("io.k8s.apimachinery.pkg.api.resource.Quantity", v3),
        },
      },
      [`${pkg}.ExternalMetricValueList`]: listOf(
        `${pkg}.ExternalMetricValue`,
        "ExternalMetricValueList",
        group,
        version,
        v3,
      ),
    }),
    paths: [
      {
        path: "namespaces/{namespace}/{metric}",
        returns: `${pkg}.ExternalMetricValueList`,
        list: true,
      },
    ],
  };
}

/** Documents for the groups we serve, by `<group>/<version>`. */
export function knownDocs(): Map<string, GroupVersionDoc> {
  const docs = [customMetricsDoc("v1beta1"), customMetricsDoc("v1beta2"), externalMetricsDoc()];
  return new Map(docs.map((d) => [`${d.group}/${d.version}`, d]));
}

function parameters(path: string): Schema[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: "path",
    required: true,
    type: "string",
  }));
}

function operation(d: GroupVersionDoc, p: GroupVersionDoc["paths"][number], v3: boolean): Schema {
  const params = [
    ...parameters(p.path),
    { name: p.list ? "labelSelector" : "metricLabelSelector", in: "query", type: "string" },
    ...(p.list ? [] : [{ name: "labelSelector", in: "query", type: "string" }]),
  ];
  const ok = v3
    ? { description: "OK", content: { "application/json": { schema: ref(p.returns, true) } } }
    : { description: "OK", schema: ref(p.returns, false) };
  return {
    get: {
      operationId: `get${d.group.split(".")[0] ?? ""}${d.version}${p.path.replace(/\W+/g, "_")}`,
      produces: v3 ? undefined : ["application/json"],
      parameters: v3 ? params.map(({ type, ...rest }) => ({ ...rest, schema: { type } })) : params,
      responses: { "200": ok, "401": { description: "Unauthorized" } },
    },
  };
}

export function openApiV2(docs: readonly GroupVersionDoc[], version: string): unknown {
  const definitions: Record<string, Schema> = { ...common(false) };
  const paths: Record<string, Schema> = {};
  for (const d of docs) {
    Object.assign(definitions, d.schemas(false));
    for (const p of d.paths)
      paths[`/apis/${d.group}/${d.version}/${p.path}`] = operation(d, p, false);
  }
  return { swagger: "2.0", info: { title: "k8s-custom-metrics", version }, paths, definitions };
}

export function openApiV3Document(d: GroupVersionDoc, version: string): unknown {
  const paths: Record<string, Schema> = {};
  for (const p of d.paths) paths[`/apis/${d.group}/${d.version}/${p.path}`] = operation(d, p, true);
  return {
    openapi: "3.0.0",
    info: { title: "k8s-custom-metrics", version },
    paths,
    components: { schemas: { ...common(true), ...d.schemas(true) } },
  };
}

/** The `/openapi/v3` index: one entry per group-version, with a content hash as kube serves it. */
export function openApiV3Index(docs: readonly GroupVersionDoc[], version: string): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const d of docs) {
    const hash = createHash("sha512")
      .update(JSON.stringify(openApiV3Document(d, version)))
      .digest("hex")
      .slice(0, 128)
      .toUpperCase();
    paths[`apis/${d.group}/${d.version}`] = {
      serverRelativeURL: `/openapi/v3/apis/${d.group}/${d.version}?hash=${hash}`,
    };
  }
  return { paths };
}
