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
import type { KubeClient } from "./client.ts";
import type { PodCache } from "./pod-cache.ts";
import type { ResourceInfo } from "./rest-mapper.ts";

/** k8s.io/client-go/metadata: the partial list first, plain JSON as the fallback. */
const METADATA_LIST_ACCEPT =
  "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

export async function listObjectNames(
  client: KubeClient,
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
  const list = await client.json<{ items: { metadata: { name: string } }[] | null }>(
    "GET",
    `${base}${ns}/${resource.resource}${query}`,
    undefined,
    { accept: METADATA_LIST_ACCEPT },
  );
  return (list.items ?? []).map((i) => i.metadata.name);
}
