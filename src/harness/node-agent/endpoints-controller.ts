/**
 * @module harness/node-agent/endpoints-controller
 * This node's EndpointSlices (./endpoint-slices.ts) and the Service proxy (./service-proxy.ts),
 * kept in step with the pods' readiness.
 */
import type * as k8s from "@kubernetes/client-node";
import { MANAGED_BY, desiredSlices, sliceContent, type SlicePod } from "./endpoint-slices.ts";
import type { AgentState, Log } from "./runtime.ts";
import { ServiceProxy, proxiedPorts } from "./service-proxy.ts";

export class EndpointsController {
  readonly #discovery: k8s.DiscoveryV1Api;
  readonly #state: AgentState;
  readonly #nodeName: string;
  readonly #log: Log;
  readonly #proxy: ServiceProxy;
  /** The EndpointSlices this node wrote, by `namespace/name`, as stored. */
  #slices = new Map<string, k8s.V1EndpointSlice>();
  #slicesListed = false;
  #syncing: Promise<void> = Promise.resolve();
  /** Every Service, as last listed. */
  services: k8s.V1Service[] = [];

  constructor(discovery: k8s.DiscoveryV1Api, state: AgentState, nodeName: string, log: Log) {
    this.#discovery = discovery;
    this.#state = state;
    this.#nodeName = nodeName;
    this.#log = log;
    this.#proxy = new ServiceProxy(log);
  }

  /**
   * Publishes this node's EndpointSlices and puts the Service proxy in step with them.
   * Serialized: called by every sync and at once when a container exits, fails readiness, turns
   * ready or its pod starts terminating.
   */
  sync(): Promise<void> {
    const next = this.#syncing.then(() => this.#syncSlicesAndProxy());
    this.#syncing = next.catch((e: unknown) => {
      this.#log("endpoint sync failed", { err: String(e) });
    });
    return this.#syncing;
  }

  close(): Promise<void> {
    return this.#proxy.close();
  }

  async #syncSlicesAndProxy(): Promise<void> {
    const pods: SlicePod[] = [];
    const down = new Set<string>();
    for (const p of this.#state.pods.values()) {
      const live = p.started && [...p.containers.values()].every((c) => c.child !== undefined);
      const ready = live && [...p.containers.values()].every((c) => c.ready);
      if (!ready || p.terminating) down.add(p.ip);
      pods.push({
        name: p.name,
        uid: p.uid,
        ip: p.ip,
        namespace: p.namespace,
        labels: p.labels,
        containers: [...p.containers.values()].map((c) => c.spec),
        ready,
        terminating: p.terminating,
      });
    }
    // Out of the proxy first (no API round trip), then the slices, then the proxy as they say.
    await this.#proxy.update(proxiedPorts(this.services, [...this.#slices.values()], down));
    if (!this.#slicesListed) {
      const list = await this.#discovery.listEndpointSliceForAllNamespaces({
        labelSelector: `endpointslice.kubernetes.io/managed-by=${MANAGED_BY}`,
      });
      for (const sl of list.items) {
        this.#slices.set(`${sl.metadata?.namespace ?? ""}/${sl.metadata?.name ?? ""}`, sl);
      }
      this.#slicesListed = true;
    }
    const want = new Map(
      desiredSlices(this.services, pods, this.#nodeName).map((sl) => [
        `${sl.metadata?.namespace ?? ""}/${sl.metadata?.name ?? ""}`,
        sl,
      ]),
    );
    for (const [key, sl] of want) {
      const have = this.#slices.get(key);
      const namespace = sl.metadata?.namespace ?? "";
      const name = sl.metadata?.name ?? "";
      try {
        if (!have) {
          this.#slices.set(
            key,
            await this.#discovery.createNamespacedEndpointSlice({ namespace, body: sl }),
          );
        } else if (sliceContent(have) !== sliceContent(sl)) {
          const body = sl;
          if (body.metadata && have.metadata?.resourceVersion !== undefined) {
            body.metadata.resourceVersion = have.metadata.resourceVersion;
          }
          this.#slices.set(
            key,
            await this.#discovery.replaceNamespacedEndpointSlice({ name, namespace, body }),
          );
        }
      } catch (e) {
        // A conflict or a slice that is gone: read them all again on the next sync.
        this.#slicesListed = false;
        this.#slices.clear();
        this.#log("endpointslice write failed", { slice: key, err: String(e) });
        return;
      }
    }
    for (const [key, sl] of this.#slices) {
      if (want.has(key)) continue;
      this.#slices.delete(key);
      await this.#discovery
        .deleteNamespacedEndpointSlice({
          name: sl.metadata?.name ?? "",
          namespace: sl.metadata?.namespace ?? "",
        })
        .catch(() => undefined);
    }
    await this.#proxy.update(proxiedPorts(this.services, [...this.#slices.values()], down));
  }
}
