/**
 * @module providers/resource/objects
 * The pods and nodes metrics.k8s.io answers for, read from the API server: only Running pods, as
 * metrics-server's and prometheus-adapter's pod informers (`status.phase=Running`). Pods come from
 * the watched pod cache when one is given and usable, else from a direct list.
 */
import { KubeApiError, type KubeJson } from "../../kube/client.ts";
import type { PodCache } from "../../kube/pod-cache.ts";
import { listInPages } from "../../kube/reflector.ts";
import type { NodeRef, PodRef, ResourceObjects } from "./types.ts";

interface ObjectJson {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  status?: { phase?: string };
}

function podRef(o: ObjectJson): PodRef {
  return {
    namespace: o.metadata.namespace ?? "",
    name: o.metadata.name,
    labels: o.metadata.labels ?? {},
  };
}

function nodeRef(o: ObjectJson): NodeRef {
  return { name: o.metadata.name, labels: o.metadata.labels ?? {} };
}

function query(params: Record<string, string>): string {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== ""));
  const s = q.toString();
  return s === "" ? "" : `?${s}`;
}

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof KubeApiError && e.status === 404) return undefined;
    throw e;
  }
}

/**
 * A Node's metadata alone (PartialObjectMetadata), which is all a NodeMetrics names: a whole
 * Node is ~13 KB of JSON, most of it the 50 image names its kubelet reports, so a list of 1,000
 * was a 13 MB body for every `kubectl top nodes` (issue #15).
 */
export const NODE_METADATA = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
const NODE_METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

/** Items per page of a list read in pages. */
export const LIST_PAGE_SIZE = 200;

export class KubeResourceObjects implements ResourceObjects {
  readonly #kube: KubeJson;
  readonly #pods: PodCache | undefined;

  constructor(kube: KubeJson, pods?: PodCache) {
    this.#kube = kube;
    this.#pods = pods;
  }

  async listPods(namespace: string, labelSelector: string): Promise<PodRef[]> {
    const cached = this.#pods?.list(namespace, labelSelector, { phase: "Running" });
    if (cached) return cached;
    const ns = namespace === "" ? "" : `/namespaces/${encodeURIComponent(namespace)}`;
    const list = (await this.#kube.json(
      "GET",
      `/api/v1${ns}/pods${query({ labelSelector, fieldSelector: "status.phase=Running" })}`,
    )) as { items: ObjectJson[] };
    return list.items.map(podRef);
  }

  async getPod(namespace: string, name: string): Promise<PodRef | undefined> {
    const cached = this.#pods?.get(namespace, name);
    if (cached !== undefined) return cached?.phase === "Running" ? cached : undefined;
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;
    const pod = await orUndefined(this.#kube.json("GET", path) as Promise<ObjectJson>);
    return pod?.status?.phase === "Running" ? podRef(pod) : undefined;
  }

  async listNodes(labelSelector: string): Promise<NodeRef[]> {
    const nodes: NodeRef[] = [];
    await listInPages(
      this.#kube,
      `/api/v1/nodes${query({ labelSelector })}`,
      LIST_PAGE_SIZE,
      (n) => nodes.push(nodeRef(n as ObjectJson)),
      { accept: NODE_METADATA_LIST },
    );
    return nodes;
  }

  async getNode(name: string): Promise<NodeRef | undefined> {
    const node = await orUndefined(
      this.#kube.json("GET", `/api/v1/nodes/${encodeURIComponent(name)}`, undefined, {
        accept: NODE_METADATA,
      }) as Promise<ObjectJson>,
    );
    return node ? nodeRef(node) : undefined;
  }
}
