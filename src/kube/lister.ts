/**
 * @module kube/lister
 * Names of the objects of one resource that a label selector picks, in the API server's list
 * order: what a `*` custom-metrics request asks about (custom-metrics-apiserver
 * pkg/provider/helpers ListObjectNames).
 */
import type { KubeClient } from "./client.ts";
import type { ResourceInfo } from "./rest-mapper.ts";

export async function listObjectNames(
  client: KubeClient,
  resource: ResourceInfo,
  namespace: string,
  labelSelector: string,
): Promise<string[]> {
  const base =
    resource.group === ""
      ? `/api/${resource.version}`
      : `/apis/${resource.group}/${resource.version}`;
  const ns =
    resource.namespaced && namespace !== "" ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  const query = labelSelector === "" ? "" : `?labelSelector=${encodeURIComponent(labelSelector)}`;
  const list = await client.json<{ items: { metadata: { name: string } }[] }>(
    "GET",
    `${base}${ns}/${resource.resource}${query}`,
  );
  return list.items.map((i) => i.metadata.name);
}
