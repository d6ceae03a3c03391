/**
 * @module harness/node-agent/lease-controller
 * The node's Lease in `kube-node-lease`, renewed on every heartbeat (created when missing), which
 * is what keeps the node controller from marking the node unreachable.
 */
import * as k8s from "@kubernetes/client-node";

export const LEASE_SECONDS = 40;

export class LeaseController {
  readonly #coord: k8s.CoordinationV1Api;
  readonly #nodeName: string;

  constructor(coord: k8s.CoordinationV1Api, nodeName: string) {
    this.#coord = coord;
    this.#nodeName = nodeName;
  }

  async renew(): Promise<void> {
    const name = this.#nodeName;
    const namespace = "kube-node-lease";
    const spec: k8s.V1LeaseSpec = {
      holderIdentity: name,
      leaseDurationSeconds: LEASE_SECONDS,
      renewTime: new k8s.V1MicroTime(),
    };
    try {
      const lease = await this.#coord.readNamespacedLease({ name, namespace });
      lease.spec = spec;
      await this.#coord.replaceNamespacedLease({ name, namespace, body: lease });
    } catch (e) {
      if (!(e instanceof k8s.ApiException) || e.code !== 404) throw e;
      await this.#coord.createNamespacedLease({ namespace, body: { metadata: { name }, spec } });
    }
  }
}
