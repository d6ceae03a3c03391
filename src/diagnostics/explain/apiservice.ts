/**
 * @module diagnostics/explain/apiservice
 * The first link of every chain: the APIService that registers a metrics group with the
 * aggregator, where it sends requests, and whether it is Available (decoded as `doctor` does).
 */
import { KubeApiError } from "../../kube/client.ts";
import { decodeApiServiceFailure } from "../apiservice-failure.ts";
import type { Chain } from "./chain.ts";
import type { ExplainContext } from "./context.ts";
import { errorText } from "./text.ts";
import { EXTERNAL, RESOURCE } from "./types.ts";

interface ApiServiceJson {
  metadata: { name: string };
  spec: { service?: { namespace?: string; name?: string; port?: number } | null };
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** The APIService serving `group`; its version, or undefined (a ✗ added) when it cannot serve. */
export async function apiServiceLink(
  cx: ExplainContext,
  group: string,
  chain: Chain,
): Promise<string | undefined> {
  let version: string | undefined;
  try {
    const g = await cx.kube.json<{ preferredVersion?: { version?: string } }>(
      "GET",
      `/apis/${group}`,
    );
    version = g.preferredVersion?.version;
  } catch (e) {
    if (!(e instanceof KubeApiError && e.status === 404)) {
      chain.fail(
        "apiservice",
        `GET /apis/${group}: ${errorText(e)}`,
        "discovery-failed",
        errorText(e),
        "k8s-custom-metrics doctor",
      );
      return undefined;
    }
  }
  const candidates = version
    ? [version]
    : group === EXTERNAL || group === RESOURCE
      ? ["v1beta1"]
      : ["v1beta2", "v1beta1"];
  let api: ApiServiceJson | undefined;
  let readError: string | undefined;
  for (const v of candidates) {
    try {
      api = await cx.kube.json("GET", `/apis/apiregistration.k8s.io/v1/apiservices/${v}.${group}`);
      break;
    } catch (e) {
      if (!(e instanceof KubeApiError && e.status === 404)) readError = errorText(e);
    }
  }
  if (!api) {
    if (readError !== undefined && version) {
      // The caller may not read APIServices, but the group is served: carry on.
      chain.add(
        "apiservice",
        "skip",
        `APIService ${version}.${group}: cannot read it (${readError})`,
      );
      return version;
    }
    chain.fail(
      "apiservice",
      `no APIService registers ${group}`,
      "api-not-registered",
      `nothing serves ${group}, so the HPA controller gets "the server could not find the requested resource"`,
      "apply the adapter's APIServices (deploy/base/apiservices.yaml)",
    );
    return undefined;
  }
  const s = api.spec.service;
  const where = s?.name
    ? `${s.namespace ?? ""}/${s.name}:${String(s.port ?? 443)}`
    : "the API server itself";
  const avail = api.status?.conditions?.find((c) => c.type === "Available");
  const [v = "", ...g] = api.metadata.name.split(".");
  if (avail?.status !== "True") {
    const d = decodeApiServiceFailure(avail ?? { reason: "", message: "" }, {
      name: api.metadata.name,
      group: g.join("."),
      version: v,
      service: s?.namespace && s.name ? { namespace: s.namespace, name: s.name } : undefined,
      serviceAccount: undefined,
    });
    chain.fail(
      "apiservice",
      `APIService ${api.metadata.name} → ${where}: not Available (${avail?.reason ?? "no condition yet"})`,
      d.kind,
      d.cause,
      d.fix,
      avail?.message ? { details: [`message: ${avail.message}`] } : {},
    );
    return undefined;
  }
  chain.add("apiservice", "ok", `APIService ${api.metadata.name} → ${where}: Available`);
  return version ?? v;
}
