/**
 * @module providers/resource/objects
 * The pods and nodes metrics.k8s.io answers for, read from the API server: only Running pods, as
 * metrics-server's and prometheus-adapter's pod informers (`status.phase=Running`). Pods come from
 * the watched pod cache when one is given and usable, else from a direct list.
 */
import { KubeApiError, type KubeClient } from "../../kube/client.ts";
import type { PodCache } from "../../kube/pod-cache.ts";
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

export class KubeResourceObjects implements ResourceObjects {
  readonly #kube: KubeClient;
  readonly #pods: PodCache | undefined;

  constructor(kube: KubeClient, pods?: PodCache) {
    this.#kube = kube;
    this.#pods = pods;
  }

  async listPods(namespace: string, labelSelector: string): Promise<PodRef[]> {
    const cached = this.#pods?.list(namespace, labelSelector, { phase: "Running" });
    if (cached) return cached;
    const ns = namespace === "" ? "" : `/namespaces/${encodeURIComponent(namespace)}`;
    const list = await this.#kube.json<{ items: ObjectJson[] }>(
      "GET",
      `/api/v1${ns}/pods${query({ labelSelector, fieldSelector: "status.phase=Running" })}`,
    );
    return list.items.map(podRef);
  }

  async getPod(namespace: string, name: string): Promise<PodRef | undefined> {
    const cached = this.#pods?.get(namespace, name);
    if (cached !== undefined) return cached?.phase === "Running" ? cached : undefined;
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;
    const pod = await orUndefined(this.#kube.json<ObjectJson>("GET", path));
    return pod?.status?.phase === "Running" ? podRef(pod) : undefined;
  }

  async listNodes(labelSelector: string): Promise<NodeRef[]> {
    const list = await this.#kube.json<{ items: ObjectJson[] }>(
      "GET",
      `/api/v1/nodes${query({ labelSelector })}`,
    );
    return list.items.map(nodeRef);
  }

  async getNode(name: string): Promise<NodeRef | undefined> {
    const node = await orUndefined(
      this.#kube.json<ObjectJson>("GET", `/api/v1/nodes/${encodeURIComponent(name)}`),
    );
    return node ? nodeRef(node) : undefined;
  }
}
