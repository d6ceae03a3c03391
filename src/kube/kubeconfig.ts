/**
 * @module kube/kubeconfig
 * Just enough of kubeconfig loading for the adapter's API client: the current context's server,
 * CA, client certificate or bearer token (inline or from files), or the in-cluster service
 * account. @kubernetes/client-node does this too, but loading it costs the adapter about half a
 * second and 75 MB at start for its generated API models, which the adapter never uses.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { parse } from "yaml";
import { KcmError } from "../errors.ts";

export interface KubeCredentials {
  readonly server: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly insecureSkipTlsVerify: boolean;
  /** Read on each request: projected service-account tokens rotate. */
  readonly token?: () => string;
}

interface KubeconfigFile {
  "current-context"?: string;
  clusters?: { name: string; cluster: Record<string, unknown> }[];
  users?: { name: string; user: Record<string, unknown> }[];
  contexts?: { name: string; context: { cluster: string; user: string } }[];
}

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

export function inClusterCredentials(env: NodeJS.ProcessEnv = process.env): KubeCredentials {
  const host = env["KUBERNETES_SERVICE_HOST"];
  const port = env["KUBERNETES_SERVICE_PORT"];
  if (!host || !port) {
    throw new KcmError(
      "KCM_ERR_KUBE_UNREACHABLE",
      "not running in a cluster (KUBERNETES_SERVICE_HOST is unset) and no kubeconfig was given",
    );
  }
  const h = host.includes(":") ? `[${host}]` : host;
  return {
    server: `https://${h}:${port}`,
    ca: readFileSync(join(SA_DIR, "ca.crt"), "utf8"),
    insecureSkipTlsVerify: false,
    token: () => readFileSync(join(SA_DIR, "token"), "utf8").trim(),
  };
}

export function kubeconfigCredentials(path: string): KubeCredentials {
  let doc: KubeconfigFile;
  try {
    doc = parse(readFileSync(path, "utf8")) as KubeconfigFile;
  } catch (e) {
    throw new KcmError(
      "KCM_ERR_KUBE_UNREACHABLE",
      // The YAML parser's first line; the rest is a code frame.
      `cannot read kubeconfig ${path}: ${(e as Error).message.split("\n")[0] ?? ""}`,
    );
  }
  const ctxName = doc["current-context"];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  const cluster = doc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
  const user = doc.users?.find((u) => u.name === ctx?.user)?.user ?? {};
  if (!ctx || !cluster || !str(cluster["server"])) {
    throw new KcmError(
      "KCM_ERR_KUBE_UNREACHABLE",
      `kubeconfig ${path} has no usable current context`,
    );
  }
  if (user["exec"] !== undefined || user["auth-provider"] !== undefined) {
    throw new KcmError(
      "KCM_ERR_KUBE_UNREACHABLE",
      `kubeconfig ${path} uses an exec or auth-provider plugin, which the adapter does not run: use a client certificate or a token`,
    );
  }
  // Relative file paths in a kubeconfig are relative to the kubeconfig itself.
  const file = (v: unknown) => {
    const p = str(v);
    return p === undefined
      ? undefined
      : readFileSync(isAbsolute(p) ? p : join(dirname(path), p), "utf8");
  };
  const data = (v: unknown) => {
    const d = str(v);
    return d === undefined ? undefined : Buffer.from(d, "base64").toString("utf8");
  };
  const ca = data(cluster["certificate-authority-data"]) ?? file(cluster["certificate-authority"]);
  const cert = data(user["client-certificate-data"]) ?? file(user["client-certificate"]);
  const key = data(user["client-key-data"]) ?? file(user["client-key"]);
  const token = str(user["token"]);
  const tokenFile = str(user["tokenFile"]);
  return {
    server: str(cluster["server"]) ?? "",
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
    ...(token !== undefined
      ? { token: () => token }
      : tokenFile !== undefined
        ? { token: () => readFileSync(tokenFile, "utf8").trim() }
        : {}),
  };
}

/** A kubeconfig file, or the in-cluster service account when none is given (as upstream). */
export function loadCredentials(kubeconfig: string | undefined): KubeCredentials {
  return kubeconfig ? kubeconfigCredentials(kubeconfig) : inClusterCredentials();
}
