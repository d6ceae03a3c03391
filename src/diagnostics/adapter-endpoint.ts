/**
 * @module diagnostics/adapter-endpoint
 * Reaching the adapter behind an APIService from where `doctor` runs: straight to the Service's
 * address (an ExternalName's host, as in the local cluster, or a ClusterIP from inside the
 * cluster), as the caller (its client certificate or token, which the adapter authenticates as it
 * does any client), else through the API server's service proxy.
 */
import { request } from "node:https";
import type { KubeClient } from "../kube/client.ts";
import { KubeApiError } from "../kube/client.ts";
import type { KubeCredentials } from "../kube/kubeconfig.ts";

export interface ServiceJson {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: {
    readonly type?: string;
    readonly externalName?: string;
    readonly clusterIP?: string;
    readonly selector?: Readonly<Record<string, string>>;
    readonly ports?: readonly { readonly name?: string; readonly port?: number }[];
  };
}

export interface DirectAddress {
  readonly host: string;
  readonly port: number;
  /** The name the aggregator asks for: `<service>.<namespace>.svc`. */
  readonly servername: string;
  /** How the address was found, for messages. */
  readonly via: string;
}

/** Where the aggregator would connect for this Service, when it can be dialled from here. */
export function directAddress(
  svc: ServiceJson,
  namespace: string,
  name: string,
  port: number,
): DirectAddress | undefined {
  const servername = `${name}.${namespace}.svc`;
  const spec = svc.spec ?? {};
  if (spec.type === "ExternalName" && spec.externalName) {
    return { host: spec.externalName, port, servername, via: `ExternalName ${spec.externalName}` };
  }
  const ip = spec.clusterIP;
  if (ip && ip !== "None") return { host: ip, port, servername, via: `ClusterIP ${ip}` };
  return undefined;
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** One GET to the adapter as the caller; the certificate is judged elsewhere, not here. */
export function getDirect(
  addr: DirectAddress,
  path: string,
  creds: Pick<KubeCredentials, "cert" | "key" | "token">,
  timeoutMs = 3000,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      Accept: "application/json",
      "User-Agent": "k8s-custom-metrics-doctor",
    };
    const token = creds.token?.();
    if (token) headers["Authorization"] = `Bearer ${token}`;
    const req = request(
      {
        host: addr.host,
        port: addr.port,
        path,
        method: "GET",
        servername: addr.servername,
        rejectUnauthorized: false,
        headers,
        timeout: timeoutMs,
        ...(creds.cert === undefined ? {} : { cert: creds.cert }),
        ...(creds.key === undefined ? {} : { key: creds.key }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${String(timeoutMs)} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * One GET through the API server's service proxy (`…/services/https:NAME:PORT/proxy/PATH`).
 * The proxy answers with the adapter's own status and body; health endpoints answer text, which
 * the JSON client cannot parse, so a parse failure after a 2xx is an `ok` answer.
 */
export async function getViaProxy(
  kube: KubeClient,
  namespace: string,
  name: string,
  port: number,
  path: string,
): Promise<HttpAnswer> {
  const p = `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/https:${encodeURIComponent(name)}:${String(port)}/proxy${path}`;
  try {
    const body = await kube.json<unknown>("GET", p);
    return { status: 200, body: JSON.stringify(body) };
  } catch (e) {
    if (e instanceof SyntaxError) return { status: 200, body: "" };
    if (e instanceof KubeApiError) return { status: e.status, body: e.body };
    throw e;
  }
}
