/**
 * @module harness/paths
 * Where the local cluster keeps built binaries (a cache shared by every state folder) and its state.
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Built Kubernetes binaries live here, outside any checkout, keyed by version. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache");
  return join(base, "k8s-custom-metrics");
}

/** The default state folder: PKI, kubeconfigs, data, logs and pid files of one local cluster. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env["XDG_STATE_HOME"] ?? join(homedir(), ".local", "state");
  return join(base, "k8s-custom-metrics", "local");
}

export interface StatePaths {
  readonly root: string;
  readonly pki: string;
  readonly logs: string;
  readonly run: string;
  readonly data: string;
  readonly pods: string;
  readonly clusterFile: string;
  /** Prometheus file_sd targets of the pods that ask to be scraped; written by the node agent. */
  readonly podTargetsFile: string;
  readonly adminKubeconfig: string;
  readonly kcmKubeconfig: string;
  readonly nodeKubeconfig: string;
}

export function statePaths(root: string): StatePaths {
  const r = resolve(root);
  return {
    root: r,
    pki: join(r, "pki"),
    logs: join(r, "logs"),
    run: join(r, "run"),
    data: join(r, "data"),
    pods: join(r, "pods"),
    clusterFile: join(r, "cluster.json"),
    podTargetsFile: join(r, "pod-targets.json"),
    adminKubeconfig: join(r, "admin.kubeconfig"),
    kcmKubeconfig: join(r, "controller-manager.kubeconfig"),
    nodeKubeconfig: join(r, "node.kubeconfig"),
  };
}
