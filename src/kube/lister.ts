/**
 * @module kube/lister
 * Names of the objects of one resource that a label selector picks, in the API server's list
 * order: what a `*` custom-metrics request asks about (custom-metrics-apiserver
 * pkg/provider/helpers ListObjectNames).
 *
 * Only names are needed, so the list is asked for as a PartialObjectMetadataList (what client-go's
 * metadata client sends): the API server encodes, and we parse, metadata instead of whole objects.
 * For pods that is several times fewer bytes; a server that cannot serve the partial form (some
 * aggregated APIs) answers with the full list, the second media type offered. The list is read
 * from the watch cache (`resourceVersion=0`), see below.
 *
 * Core pods, the resource almost every `*` request is about, are read from the adapter's watched
 * {@link PodCache} when one is given (serve.ts makes one unless `--pod-cache=false`) and usable;
 * otherwise, and for every other resource, they are listed as above.
 */
import { groupResourceString } from "../apimachinery/group-resource.ts";
import { KubeApiError, type KubeJson } from "./client.ts";
import type { PodCache } from "./pod-cache.ts";
import type { ResourceInfo } from "./rest-mapper.ts";

const SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:";

/**
 * The user a Forbidden Status names: kube-apiserver's RBAC denial reads `… User "<name>" cannot
 * list resource …` (k8s.io/apiserver pkg/endpoints/handlers/responsewriters errors.go, the name
 * Go-quoted). Undefined when the message has another shape.
 */
export function forbiddenUser(apiMessage: string | undefined): string | undefined {
  const m = /\bUser "((?:[^"\\]|\\.)*)"/.exec(apiMessage ?? "");
  if (!m) return undefined;
  try {
    // A Go %q string is a JSON string for every name RBAC can hold.
    return JSON.parse(`"${m[1] ?? ""}"`) as string;
  } catch {
    return m[1];
  }
}

/**
 * The adapter's own credentials may not list a resource a `*` request is about: its RBAC lacks
 * the rule. Carries what an operator needs to add it; {@link publicReason} is the part a client
 * may see (no user name, no address).
 */
export class ListForbiddenError extends Error {
  override readonly name = "ListForbiddenError";
  readonly group: string;
  readonly resource: string;
  /** The namespace listed in; "" for a list across the cluster. */
  readonly namespace: string;
  /** The adapter's user as the API server named it, when it did. */
  readonly user: string | undefined;
  /** The verbs the adapter uses on the resource: core pods are also watched (pod cache). */
  readonly verbs: readonly string[];

  constructor(resource: ResourceInfo, namespace: string, cause: KubeApiError) {
    const user = forbiddenUser(cause.apiMessage);
    const who = user === undefined ? identity(user) : `${identity(user)} ${JSON.stringify(user)}`;
    const what = JSON.stringify(groupResourceString(resource));
    const where = namespace === "" ? "" : ` in namespace ${JSON.stringify(namespace)}`;
    const rule = ruleOf(resource.group, resource.resource);
    super(`${who} may not list ${what}${where}; grant it the ClusterRole rule ${rule}`, { cause });
    this.group = resource.group;
    this.resource = resource.resource;
    this.namespace = namespace;
    this.user = user;
    this.verbs = verbsFor(resource.group, resource.resource);
  }

  /** The ClusterRole rule that would allow the list, in YAML flow style. */
  get rule(): string {
    return ruleOf(this.group, this.resource);
  }

  /** For the Status body: what is missing and the rule to grant, without the user's name. */
  get publicReason(): string {
    const what = JSON.stringify(groupResourceString(this));
    return `${identity(this.user)} may not list ${what}; grant it the ClusterRole rule ${this.rule}`;
  }
}

function identity(user: string | undefined): string {
  // In a cluster the adapter runs as its ServiceAccount; a kubeconfig user is named as such.
  return user === undefined || user.startsWith(SERVICE_ACCOUNT_PREFIX)
    ? "the adapter's ServiceAccount"
    : "the adapter's user";
}

function verbsFor(group: string, resource: string): readonly string[] {
  return group === "" && resource === "pods" ? ["get", "list", "watch"] : ["list"];
}

function ruleOf(group: string, resource: string): string {
  const list = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(", ")}]`;
  return `{apiGroups: ${list([group])}, resources: ${list([resource])}, verbs: ${list(verbsFor(group, resource))}}`;
}

/** k8s.io/client-go/metadata: the partial list first, plain JSON as the fallback. */
const METADATA_LIST_ACCEPT =
  "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

export async function listObjectNames(
  client: KubeJson,
  resource: ResourceInfo,
  namespace: string,
  labelSelector: string,
  pods?: PodCache,
): Promise<string[]> {
  const cache = resource.group === "" && resource.resource === "pods" ? pods : undefined;
  const cached = cache?.list(resource.namespaced ? namespace : "", labelSelector);
  if (cached) return cached.map((p) => p.name);
  const base =
    resource.group === ""
      ? `/api/${resource.version}`
      : `/apis/${resource.group}/${resource.version}`;
  const ns =
    resource.namespaced && namespace !== "" ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  // resourceVersion=0: any recent state, served from the API server's watch cache without first
  // confirming it is current with etcd (a consistent list waits for that on every request, about
  // as long as the rest of the list). The HPA controller itself reads pods from an informer, so
  // a list a few milliseconds old is what it would see anyway.
  const query = `?${labelSelector === "" ? "" : `labelSelector=${encodeURIComponent(labelSelector)}&`}resourceVersion=0`;
  // An empty PartialObjectMetadataList has `"items": null`.
  let list: { items: { metadata: { name: string } }[] | null };
  try {
    list = (await client.json("GET", `${base}${ns}/${resource.resource}${query}`, undefined, {
      accept: METADATA_LIST_ACCEPT,
    })) as typeof list;
  } catch (e) {
    // RBAC says no: name the rule the adapter lacks, the one fix an operator can make.
    if (e instanceof KubeApiError && e.status === 403) {
      throw new ListForbiddenError(resource, resource.namespaced ? namespace : "", e);
    }
    throw e;
  }
  return (list.items ?? []).map((i) => i.metadata.name);
}
