/**
 * @module diagnostics/adapter-endpoint
 * Reaching the adapter behind an APIService from where `doctor` runs: straight to the Service's
 * address (an ExternalName's host, as in the local cluster, or a ClusterIP from inside the
 * cluster), as the caller (its client certificate or token, which the adapter authenticates as it
 * does any client), else through the API server's service proxy.
 */
import { isTimeout, nodeError, sharedAgent } from "../http/client.ts";
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
export async function getDirect(
  addr: DirectAddress,
  path: string,
  creds: Pick<KubeCredentials, "cert" | "key" | "token">,
  timeoutMs = 3000,
): Promise<HttpAnswer> {
  const headers: Record<string, string> = {
    Accept: "application/json",
    "User-Agent": "k8s-custom-metrics-doctor",
  };
  const token = creds.token?.();
  if (token) headers["Authorization"] = `Bearer ${token}`;
  // The name the aggregator asks for, whatever the address: one agent per name and identity.
  const agent = sharedAgent({
    timeoutMs,
    keepAliveMs: 5000,
    tls: { servername: addr.servername, insecure: true, cert: creds.cert, key: creds.key },
  });
  const host = addr.host.includes(":") ? `[${addr.host}]` : addr.host;
  let phase: "response" | "body" = "response";
  try {
    const res = await agent.request({
      origin: `https://${host}:${String(addr.port)}`,
      path,
      method: "GET",
      headers,
    });
    phase = "body";
    return { status: res.statusCode, body: await res.body.text() };
  } catch (e) {
    if (isTimeout(e)) throw new Error(`no answer within ${String(timeoutMs)} ms`, { cause: e });
    throw nodeError(e, phase);
  }
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
