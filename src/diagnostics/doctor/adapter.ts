/**
 * @module diagnostics/doctor/adapter
 * The adapter behind the APIServices: its Service, its service account (named, its pods', or the
 * one named like the Service), then its certificate, readiness, version and the groups it serves,
 * asked directly when its address is reachable from here, else through the service proxy.
 */
import { KubeApiError } from "../../kube/client.ts";
import {
  directAddress,
  getDirect,
  getViaProxy,
  type HttpAnswer,
  type ServiceJson,
} from "../adapter-endpoint.ts";
import type { ServiceAccountRef } from "../adapter-rbac.ts";
import { sameService, serviceKey, type ServiceRef } from "../group-owners.ts";
import { adapterCertificate } from "./adapter-certificate.ts";
import type { DoctorContext } from "./context.ts";
import { errorText, summary, type ApiServiceJson } from "./types.ts";

export async function adapterServiceJson(
  d: DoctorContext,
  ref: ServiceRef,
): Promise<ServiceJson | undefined> {
  try {
    return await d.kube.json<ServiceJson>(
      "GET",
      `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/services/${encodeURIComponent(ref.name)}`,
    );
  } catch (e) {
    if (e instanceof KubeApiError && e.status === 404) return undefined;
    // Unknown rather than missing: the checks that need its address go through the proxy.
    d.serviceError = `cannot read Service ${serviceKey(ref)}: ${errorText(e)}`;
    return {};
  }
}

/** The adapter's service account: an option, its pods' account, or one named like the Service. */
export async function serviceAccount(
  d: DoctorContext,
  ref: ServiceRef,
  svc: ServiceJson | undefined,
): Promise<ServiceAccountRef | undefined> {
  if (d.o.adapterServiceAccount) return d.o.adapterServiceAccount;
  const ns = encodeURIComponent(ref.namespace);
  const selector = svc?.spec?.selector;
  if (selector && Object.keys(selector).length > 0) {
    const q = Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    try {
      const pods = await d.kube.json<{ items?: { spec?: { serviceAccountName?: string } }[] }>(
        "GET",
        `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(q)}&limit=1`,
      );
      const first = pods.items?.[0];
      if (first)
        return { namespace: ref.namespace, name: first.spec?.serviceAccountName ?? "default" };
    } catch {
      // Fall through to the name convention.
    }
  }
  try {
    await d.kube.json(
      "GET",
      `/api/v1/namespaces/${ns}/serviceaccounts/${encodeURIComponent(ref.name)}`,
    );
    return { namespace: ref.namespace, name: ref.name };
  } catch {
    return undefined;
  }
}

/** Certificate, readiness, version and the groups the adapter serves. */
export async function checkAdapter(
  d: DoctorContext,
  ref: ServiceRef,
  svc: ServiceJson | undefined,
  apis: readonly ApiServiceJson[],
): Promise<ReadonlySet<string> | undefined> {
  const section = `adapter ${serviceKey(ref)}`;
  if (svc === undefined) {
    d.checks.push({
      section,
      status: "fail",
      kind: "service-not-found",
      title: `Service ${serviceKey(ref)} does not exist`,
      cause: "the adapter's Service is missing, so the aggregator has nowhere to send requests",
      fix: "apply the adapter's Service (deploy/base/service.yaml), or pass --adapter-service NAMESPACE/NAME",
    });
    return undefined;
  }
  if (d.serviceError !== undefined) {
    d.checks.push({ section, status: "skip", title: d.serviceError });
  }
  const mine = apis.filter((a) => sameService(summary(a).service, ref));
  const port = mine[0] ? summary(mine[0]).port : 443;
  const addr = directAddress(svc, ref.namespace, ref.name, port);
  const direct = addr ? await adapterCertificate(d, section, addr, mine) : undefined;
  const get = async (path: string, creds: boolean): Promise<HttpAnswer> => {
    if (direct) {
      return getDirect(direct, path, creds ? d.o.credentials : {}, d.o.timeoutMs);
    }
    return getViaProxy(d.kube, ref.namespace, ref.name, port, path);
  };
  const via = direct
    ? `at ${direct.host}:${String(direct.port)}`
    : "through the API server's service proxy";

  try {
    const r = await get("/readyz", false);
    d.checks.push(
      !direct && r.status === 404
        ? // The proxy itself refuses (it cannot route to an ExternalName Service, say).
          {
            section,
            status: "skip",
            title: `/readyz ${via}: HTTP 404 (${r.body.trim().slice(0, 200)})`,
          }
        : r.status === 200
          ? { section, status: "ok", title: `/readyz ${via}: ready` }
          : {
              section,
              status: "fail",
              kind: "not-ready",
              title: `/readyz ${via}: HTTP ${String(r.status)}`,
              cause:
                r.body.trim().slice(0, 400) ||
                "the adapter is not ready (first discovery from Prometheus not done, or Prometheus unreachable)",
              fix: "read the adapter's log: it says why discovery or Prometheus fails",
            },
    );
  } catch (e) {
    d.checks.push({ section, status: "skip", title: `/readyz ${via}: ${errorText(e)}` });
  }
  try {
    const r = await get("/version", true);
    const v =
      r.status === 200 ? (JSON.parse(r.body) as { gitVersion?: string }).gitVersion : undefined;
    d.checks.push(
      v === undefined
        ? { section, status: "skip", title: `version: HTTP ${String(r.status)}` }
        : { section, status: "ok", title: `version ${v}` },
    );
  } catch (e) {
    d.checks.push({ section, status: "skip", title: `version: ${errorText(e)}` });
  }
  try {
    const r = await get("/apis", true);
    if (r.status !== 200) return undefined;
    const groups = (JSON.parse(r.body) as { groups?: { name?: string }[] }).groups ?? [];
    return new Set(groups.map((g) => g.name ?? ""));
  } catch {
    return undefined;
  }
}
