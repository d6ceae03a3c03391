/**
 * @module harness/kubeconfig
 * Writes kubeconfig files with embedded client certificates for the local cluster's identities.
 */
import { stringify } from "yaml";

export interface KubeconfigOptions {
  readonly server: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly user: string;
  readonly cluster?: string;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

export function kubeconfigYaml(o: KubeconfigOptions): string {
  const cluster = o.cluster ?? "k8s-custom-metrics-local";
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: cluster, cluster: { server: o.server, "certificate-authority-data": b64(o.caPem) } },
    ],
    users: [
      {
        name: o.user,
        user: { "client-certificate-data": b64(o.certPem), "client-key-data": b64(o.keyPem) },
      },
    ],
    contexts: [{ name: cluster, context: { cluster, user: o.user } }],
    "current-context": cluster,
  });
}
