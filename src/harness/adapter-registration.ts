/**
 * @module harness/adapter-registration
 * Registers an adapter that runs as a host process behind the local cluster's aggregator:
 * deploy/base (namespace, service account, RBAC, APIServices) plus, for loopback, an ExternalName
 * Service `localhost` in place of the ClusterIP Service (nothing here may dial a ClusterIP), the
 * APIServices pointed at the adapter's port with the cluster CA as caBundle, a serving certificate
 * with the `<svc>.<ns>.svc` name the aggregator checks, and a kubeconfig with the service
 * account's token, so the adapter runs with exactly the permissions deploy/ grants.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { issue, loadCa } from "../pki/pki.ts";
import type { ClusterInfo } from "./cluster.ts";

const exec = promisify(execFile);
const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

export const ADAPTER_NAMESPACE = "custom-metrics";
export const ADAPTER_SERVICE = "k8s-custom-metrics";

export const API_SERVICES = [
  { group: "custom.metrics.k8s.io", version: "v1beta2", versionPriority: 200 },
  { group: "custom.metrics.k8s.io", version: "v1beta1", versionPriority: 100 },
  { group: "external.metrics.k8s.io", version: "v1beta1", versionPriority: 100 },
  { group: "metrics.k8s.io", version: "v1beta1", versionPriority: 100 },
] as const;

export type ApiServiceSpec = (typeof API_SERVICES)[number];

export interface AdapterRegistration {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly kubeconfig: string;
  readonly port: number;
  /** The cluster CA, which signed the serving certificate: the APIServices' caBundle. */
  readonly caPem: string;
}

async function kubectl(info: ClusterInfo, args: string[], input?: string): Promise<string> {
  const p = exec("kubectl", [`--kubeconfig=${info.kubeconfig}`, ...args]);
  if (input !== undefined) p.child.stdin?.end(input);
  return (await p).stdout;
}

/** The objects that differ from deploy/base on a loopback-only cluster. */
export function loopbackObjects(port: number, caPem: string): unknown[] {
  const caBundle = Buffer.from(caPem).toString("base64");
  return [
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: ADAPTER_SERVICE, namespace: ADAPTER_NAMESPACE },
      // The aggregator resolves an ExternalName Service to `<externalName>:<APIService port>`.
      spec: { type: "ExternalName", externalName: "localhost", ports: [{ name: "https", port }] },
    },
    ...API_SERVICES.map((a) => ({
      apiVersion: "apiregistration.k8s.io/v1",
      kind: "APIService",
      metadata: { name: `${a.version}.${a.group}` },
      spec: {
        group: a.group,
        version: a.version,
        groupPriorityMinimum: 100,
        versionPriority: a.versionPriority,
        caBundle,
        service: { name: ADAPTER_SERVICE, namespace: ADAPTER_NAMESPACE, port },
      },
    })),
  ];
}

/** The files of a registration made earlier (by the process that started the adapter). */
export function existingRegistration(info: ClusterInfo): AdapterRegistration {
  const dir = join(info.stateDir, "adapter");
  return {
    dir,
    certFile: join(dir, "serving.crt"),
    keyFile: join(dir, "serving.key"),
    kubeconfig: join(dir, "adapter.kubeconfig"),
    port: info.ports.adapter,
    caPem: readFileSync(info.pki.caCert, "utf8"),
  };
}

export async function registerAdapter(
  info: ClusterInfo,
  port: number,
): Promise<AdapterRegistration> {
  const dir = join(info.stateDir, "adapter");
  await mkdir(dir, { recursive: true });
  const ca = await loadCa(
    await readFile(info.pki.caCert, "utf8"),
    await readFile(info.pki.caKey, "utf8"),
  );
  const serving = await issue(ca, {
    commonName: ADAPTER_SERVICE,
    dnsNames: [
      `${ADAPTER_SERVICE}.${ADAPTER_NAMESPACE}.svc`,
      `${ADAPTER_SERVICE}.${ADAPTER_NAMESPACE}.svc.cluster.local`,
      "localhost",
    ],
    ipAddresses: ["127.0.0.1", "::1"],
    usage: "server",
  });
  const certFile = join(dir, "serving.crt");
  const keyFile = join(dir, "serving.key");
  await writeFile(certFile, serving.certPem, { mode: 0o644 });
  await writeFile(keyFile, serving.keyPem, { mode: 0o600 });

  // deploy/base's identity and permissions only: the adapter runs here as a host process, so
  // its Deployment (whose image the local node cannot run), Service and APIServices are left out.
  const base = await kubectl(info, ["kustomize", join(REPO_ROOT, "deploy", "base")]);
  const kept = base
    .split(/^---$/m)
    .filter((doc) =>
      /^kind: (Namespace|ServiceAccount|ClusterRole|ClusterRoleBinding|Role|RoleBinding)$/m.test(
        doc,
      ),
    )
    .join("---\n");
  await kubectl(info, ["apply", "-f", "-"], kept);

  const token = (
    await kubectl(info, [
      "-n",
      ADAPTER_NAMESPACE,
      "create",
      "token",
      ADAPTER_SERVICE,
      "--duration=48h",
    ])
  ).trim();
  const kubeconfig = join(dir, "adapter.kubeconfig");
  await writeFile(
    kubeconfig,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "local",
          cluster: {
            server: info.server,
            "certificate-authority-data": Buffer.from(ca.certPem).toString("base64"),
          },
        },
      ],
      users: [{ name: ADAPTER_SERVICE, user: { token } }],
      contexts: [{ name: "local", context: { cluster: "local", user: ADAPTER_SERVICE } }],
      "current-context": "local",
    }),
    { mode: 0o600 },
  );
  return { dir, certFile, keyFile, kubeconfig, port, caPem: ca.certPem };
}

/**
 * Points the aggregator at the adapter. Done once the adapter listens: APIServices that fail
 * their first checks push the aggregator's OpenAPI download into a long backoff. With `only`, just
 * those APIServices are pointed at it (a second adapter beside the first); the shared Service is
 * left as it is.
 */
export async function publishApiServices(
  info: ClusterInfo,
  reg: AdapterRegistration,
  only?: readonly ApiServiceSpec[],
): Promise<void> {
  const names = only?.map((a) => `${a.version}.${a.group}`);
  const objects = loopbackObjects(reg.port, reg.caPem).filter(
    (o) =>
      names === undefined ||
      ((o as { kind: string }).kind === "APIService" &&
        names.includes((o as { metadata: { name: string } }).metadata.name)),
  );
  await kubectl(info, ["apply", "-f", "-"], objects.map((o) => stringify(o)).join("---\n"));
}
