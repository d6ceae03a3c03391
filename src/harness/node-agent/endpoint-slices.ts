/**
 * @module harness/node-agent/endpoint-slices
 * EndpointSlices for the pods of this node, written by the node agent in place of
 * kube-controller-manager's EndpointSlice controller: that controller publishes pod IPs as IPv4
 * addresses, and EndpointSlice validation rejects loopback ones (ValidateEndpointIP), which every
 * pod IP here is. So each endpoint is published under its pod's DNS A-record name
 * (`a-b-c-d.<namespace>.pod.cluster.local`, addressType FQDN), which names the IP exactly; the
 * rest follows the controller (pkg/controller/endpointslice): one slice per Service with a
 * selector, ready/serving/terminating conditions from the pod, targetPort resolved by name per pod,
 * the `kubernetes.io/service-name` label the aggregator's availability check looks up.
 */
import type * as k8s from "@kubernetes/client-node";

export const MANAGED_BY = "node-agent.k8s-custom-metrics.io";
const CLUSTER_DOMAIN = "cluster.local";

export interface SlicePod {
  readonly name: string;
  readonly uid: string;
  readonly ip: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly containers: readonly k8s.V1Container[];
  readonly ready: boolean;
  readonly terminating: boolean;
}

/** The pod A-record name of a loopback pod IP. */
export function podHostname(ip: string, namespace: string): string {
  return `${ip.replace(/\./g, "-")}.${namespace}.pod.${CLUSTER_DOMAIN}`;
}

/** The IP an endpoint address names: an IPv4 address, or a pod A-record name. */
export function addressIp(address: string): string | undefined {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(address)) return address;
  const m = /^(\d+)-(\d+)-(\d+)-(\d+)\.[^.]+\.pod\./.exec(address);
  return m ? `${m[1] ?? ""}.${m[2] ?? ""}.${m[3] ?? ""}.${m[4] ?? ""}` : undefined;
}

function targetPort(sp: k8s.V1ServicePort, p: SlicePod): number | undefined {
  const tp = sp.targetPort ?? sp.port;
  if (typeof tp === "number") return tp;
  if (/^\d+$/.test(tp)) return Number(tp);
  for (const c of p.containers) {
    const found = c.ports?.find(
      (cp) => cp.name === tp && (cp.protocol ?? "TCP") === (sp.protocol ?? "TCP"),
    );
    if (found) return found.containerPort;
  }
  return undefined;
}

/**
 * The slices this node publishes: pure. A Service whose named targetPort resolves to different
 * numbers on different pods gets one slice per port set, as the controller does.
 */
export function desiredSlices(
  services: readonly k8s.V1Service[],
  pods: readonly SlicePod[],
  nodeName: string,
): k8s.V1EndpointSlice[] {
  const out: k8s.V1EndpointSlice[] = [];
  for (const svc of services) {
    const selector = svc.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) continue;
    const ns = svc.metadata?.namespace ?? "";
    const name = svc.metadata?.name ?? "";
    const groups = new Map<
      string,
      { ports: k8s.DiscoveryV1EndpointPort[]; eps: k8s.V1Endpoint[] }
    >();
    const selected = pods
      .filter(
        (p) => p.namespace === ns && Object.entries(selector).every(([k, v]) => p.labels[k] === v),
      )
      .sort((a, b) => a.name.localeCompare(b.name));
    for (const p of selected) {
      const ports: k8s.DiscoveryV1EndpointPort[] = [];
      for (const sp of svc.spec?.ports ?? []) {
        const port = targetPort(sp, p);
        if (port === undefined) continue;
        const ep: k8s.DiscoveryV1EndpointPort = { port, protocol: sp.protocol ?? "TCP" };
        ep.name = sp.name ?? "";
        if (sp.appProtocol !== undefined) ep.appProtocol = sp.appProtocol;
        ports.push(ep);
      }
      if (ports.length === 0) continue;
      const key = JSON.stringify(ports);
      const g = groups.get(key) ?? { ports, eps: [] };
      g.eps.push({
        addresses: [podHostname(p.ip, p.namespace)],
        conditions: {
          ready: p.ready && !p.terminating,
          serving: p.ready,
          terminating: p.terminating,
        },
        nodeName,
        targetRef: { kind: "Pod", namespace: p.namespace, name: p.name, uid: p.uid },
      });
      groups.set(key, g);
    }
    const list = [...groups.values()];
    if (list.length === 0) list.push({ ports: [], eps: [] });
    list.forEach((g, i) => {
      out.push({
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: {
          name: `${name}-local${i === 0 ? "" : `-${String(i)}`}`,
          namespace: ns,
          labels: {
            "kubernetes.io/service-name": name,
            "endpointslice.kubernetes.io/managed-by": MANAGED_BY,
          },
          ownerReferences: [
            {
              apiVersion: "v1",
              kind: "Service",
              name,
              uid: svc.metadata?.uid ?? "",
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        addressType: "FQDN",
        endpoints: g.eps,
        ports: g.ports,
      });
    });
  }
  return out;
}

/** What a slice says, for comparing the desired slice with the stored one. */
export function sliceContent(s: k8s.V1EndpointSlice): string {
  return JSON.stringify({
    // The API server returns `endpoints: null` for an empty list, whatever the type says.
    endpoints: ((s.endpoints as k8s.V1Endpoint[] | null) ?? []).map((e) => ({
      a: e.addresses,
      c: e.conditions,
      t: e.targetRef?.uid,
    })),
    ports: (s.ports ?? []).map((p) => [p.name ?? "", p.port, p.protocol]),
    owner: s.metadata?.ownerReferences?.[0]?.uid,
  });
}
