/**
 * @module auth/request-attributes
 * Kubernetes' RequestInfo for a request: the authorization attributes (verb, API group, version,
 * namespace, resource, name, subresource) of a resource request, or path and verb of a
 * non-resource one. A port of k8s.io/apiserver pkg/endpoints/request/requestinfo.go
 * (NewRequestInfo), for `/api` and `/apis` prefixes.
 *
 * @example
 * requestAttributes("GET", parseRequestTarget("/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/%2A/m"))
 * // → { kind: "resource", verb: "get", group: "custom.metrics.k8s.io", version: "v1beta2",
 * //     namespace: "ns", resource: "pods", name: "*", subresource: "m", … }
 */
import { parseFieldSelector } from "../apimachinery/field-selector.ts";
import { parseLabelSelector } from "../apimachinery/label-selector-parser.ts";
import type { RequestTarget } from "../apimachinery/request-target.ts";

export interface ResourceAttributes {
  readonly kind: "resource";
  readonly verb: string;
  /** "api" or "apis". */
  readonly apiPrefix: string;
  /** "" for the core group. */
  readonly group: string;
  readonly version: string;
  readonly namespace: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
  /** The decoded path. */
  readonly path: string;
  /** Path segments from the resource on (`pods`, `*`, `m`). */
  readonly parts: readonly string[];
}

export interface NonResourceAttributes {
  readonly kind: "nonResource";
  /** The lower-cased HTTP method. */
  readonly verb: string;
  /** The decoded path. */
  readonly path: string;
}

export type RequestAttributes = ResourceAttributes | NonResourceAttributes;

/** NewRequestInfo's error: the generic apiserver answers it with a 500. */
export class RequestInfoError extends Error {
  override readonly name = "RequestInfoError";
  readonly status = 500;
}

const API_PREFIXES = new Set(["api", "apis"]);
const GROUPLESS_API_PREFIXES = new Set(["api"]);
const SPECIAL_VERBS = new Set(["proxy", "watch"]);
const SPECIAL_VERBS_NO_SUBRESOURCES = new Set(["proxy"]);
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

const METHOD_VERBS: Readonly<Record<string, string>> = {
  POST: "create",
  GET: "get",
  HEAD: "get",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

/** runtime.Convert_Slice_string_To_bool: anything but "0" and "false" (any case) is true. */
function queryBool(value: string): boolean {
  return !(value === "0" || value.toLowerCase() === "false");
}

/** path.IsValidPathSegmentName. */
function isValidPathSegmentName(name: string): boolean {
  return name !== "." && name !== ".." && !name.includes("/") && !name.includes("%");
}

const INT64 = /^[+-]?\d+$/;

/**
 * The list/watch decision and the `metadata.name` field-selector name, as NewRequestInfo derives
 * them from metainternalversion.ListOptions: if decoding the options fails, only `watch` counts.
 */
function listVerbAndName(query: URLSearchParams): { verb: "list" | "watch"; name: string } {
  const first = (k: string) => query.getAll(k)[0];
  const watch = first("watch");
  const verb = watch !== undefined && queryBool(watch) ? "watch" : "list";
  try {
    const labels = first("labelSelector");
    if (labels !== undefined) parseLabelSelector(labels);
    for (const k of ["timeoutSeconds", "limit"]) {
      const v = first(k)?.trim();
      if (v !== undefined && v !== "" && !INT64.test(v)) return { verb, name: "" };
    }
    const fields = first("fieldSelector");
    if (fields === undefined) return { verb, name: "" };
    const req = parseFieldSelector(fields).requirements.find(
      (r) => r.field === "metadata.name" && r.operator === "=",
    );
    const name = req?.value ?? "";
    return { verb, name: isValidPathSegmentName(name) ? name : "" };
  } catch {
    return { verb, name: "" };
  }
}

/**
 * The attributes of one request, from the same parsed target the router serves
 * (apimachinery/request-target). Throws {@link RequestInfoError}.
 */
export function requestAttributes(method: string, target: RequestTarget): RequestAttributes {
  const { path } = target;
  const nonResource: NonResourceAttributes = {
    kind: "nonResource",
    verb: method.toLowerCase(),
    path,
  };
  let parts = [...target.segments];
  if (parts.length < 3) return nonResource;
  const apiPrefix = parts[0] ?? "";
  if (!API_PREFIXES.has(apiPrefix)) return nonResource;
  parts = parts.slice(1);

  let group = "";
  if (!GROUPLESS_API_PREFIXES.has(apiPrefix)) {
    // "Do we have four parts?": /apis/<group>/<version> alone is discovery, not a resource.
    if (parts.length < 3) return nonResource;
    group = parts[0] ?? "";
    parts = parts.slice(1);
  }
  const version = parts[0] ?? "";
  parts = parts.slice(1);

  let verb: string;
  const head = parts[0] ?? "";
  if (SPECIAL_VERBS.has(head)) {
    if (parts.length < 2) {
      throw new RequestInfoError(
        `unable to determine kind and namespace from url, ${target.rawPath}`,
      );
    }
    verb = head;
    parts = parts.slice(1);
  } else {
    verb = METHOD_VERBS[method.toUpperCase()] ?? "";
  }

  let namespace = "";
  if (parts[0] === "namespaces") {
    if (parts.length > 1) {
      namespace = parts[1] ?? "";
      // namespaces/<ns>/<resource>…; but namespaces/<ns>/status is the namespace's subresource.
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2] ?? "")) parts = parts.slice(2);
    }
  }

  let resource = "";
  let name = "";
  let subresource = "";
  if (parts.length >= 3 && !SPECIAL_VERBS_NO_SUBRESOURCES.has(verb)) subresource = parts[2] ?? "";
  if (parts.length >= 2) name = parts[1] ?? "";
  if (parts.length >= 1) resource = parts[0] ?? "";

  if (name === "" && verb === "get") {
    const list = listVerbAndName(target.query);
    verb = list.verb;
    name = list.name;
  }
  if (name === "" && verb === "delete") verb = "deletecollection";

  return {
    kind: "resource",
    verb,
    apiPrefix,
    group,
    version,
    namespace,
    resource,
    subresource,
    name,
    path,
    parts,
  };
}
