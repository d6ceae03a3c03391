/**
 * @module harness/ports
 * The local cluster's loopback ports, derived from one base so two clusters (a demo and a test
 * run) can live side by side.
 */

export interface Ports {
  readonly etcd: number;
  readonly etcdPeer: number;
  readonly apiserver: number;
  readonly controllerManager: number;
  readonly prometheus: number;
  readonly nodeAgent: number;
  readonly adapter: number;
  readonly adapterHttp: number;
}

export const DEFAULT_PORT_BASE = 16000;

/**
 * The first two octets of the cluster's pod IPs (a /16 inside 127.0.0.0/8), derived from the port
 * base so that two local clusters never hand out the same pod IP.
 */
export function podNetwork(portBase: number): string {
  return `127.${String(1 + (Math.floor(portBase / 1000) % 250))}`;
}

export function portsFrom(base: number): Ports {
  return {
    etcd: base + 379,
    etcdPeer: base + 380,
    apiserver: base + 443,
    controllerManager: base + 257,
    prometheus: base + 90,
    nodeAgent: base + 250,
    adapter: base + 444,
    adapterHttp: base + 80,
  };
}
