/**
 * @module diagnostics/doctor/apiservices
 * The metrics APIServices: listed in their usual order, the adapter's Service taken from the
 * custom metrics one, and each one Available (decoded when not) with its discovery answering.
 */
import { decodeApiServiceFailure } from "../apiservice-failure.ts";
import {
  METRICS_API_SERVICES,
  METRICS_GROUPS,
  serviceKey,
  type ServiceRef,
} from "../group-owners.ts";
import type { DoctorContext } from "./context.ts";
import { DEFAULT_SERVICE, errorText, order, summary, type ApiServiceJson } from "./types.ts";

export async function apiServices(d: DoctorContext): Promise<ApiServiceJson[]> {
  let list: { items?: ApiServiceJson[] };
  try {
    list = await d.kube.json("GET", "/apis/apiregistration.k8s.io/v1/apiservices");
  } catch (e) {
    d.checks.push({
      section: "APIServices",
      status: "fail",
      kind: "apiservices-unreadable",
      title: "cannot list APIServices",
      cause: errorText(e),
      fix: "run doctor with a kubeconfig allowed to read apiservices.apiregistration.k8s.io (cluster-admin, or the view role plus that resource)",
    });
    return [];
  }
  const ours = (list.items ?? [])
    .filter((a) => (METRICS_GROUPS as readonly string[]).includes(a.spec.group ?? ""))
    .sort(order);
  return ours;
}

/** The Service that serves custom metrics, taken as the adapter's unless told otherwise. */
export function adapterService(d: DoctorContext, apis: readonly ApiServiceJson[]): ServiceRef {
  if (d.o.adapterService) return d.o.adapterService;
  for (const name of ["v1beta2.custom.metrics.k8s.io", "v1beta1.custom.metrics.k8s.io"]) {
    const a = apis.find((x) => x.metadata.name === name);
    const s = a ? summary(a).service : undefined;
    if (s) return s;
  }
  return DEFAULT_SERVICE;
}

export async function apiServiceChecks(
  d: DoctorContext,
  apis: readonly ApiServiceJson[],
  sa: string | undefined,
): Promise<void> {
  const section = "APIServices";
  for (const name of METRICS_API_SERVICES) {
    if (!apis.some((a) => a.metadata.name === name)) {
      d.checks.push({ section, status: "skip", title: `${name}: not registered` });
    }
  }
  for (const a of apis) {
    const s = summary(a);
    const where = s.service
      ? `${serviceKey(s.service)}:${String(s.port)}`
      : "the API server itself";
    const available = a.status?.conditions?.find((c) => c.type === "Available");
    if (available?.status !== "True") {
      const failure = decodeApiServiceFailure(available ?? { reason: "", message: "" }, {
        name: s.name,
        group: s.group,
        version: s.version,
        service: s.service,
        serviceAccount: sa,
      });
      d.checks.push({
        section,
        status: "fail",
        kind: failure.kind,
        title: `${s.name} → ${where}: not Available (${available?.reason ?? "no condition yet"})`,
        cause: failure.cause,
        fix: failure.fix,
      });
      continue;
    }
    try {
      const list = await d.kube.json<{ resources?: unknown[] }>(
        "GET",
        `/apis/${s.group}/${s.version}`,
      );
      d.checks.push({
        section,
        status: "ok",
        title: `${s.name} → ${where}: Available, discovery lists ${String(list.resources?.length ?? 0)} resources`,
      });
    } catch (e) {
      d.checks.push({
        section,
        status: "fail",
        kind: "discovery-failed",
        title: `${s.name} → ${where}: Available, but GET /apis/${s.group}/${s.version} fails`,
        cause: errorText(e),
        fix: "read the adapter's log; the aggregator may not have noticed yet (it re-checks every 30 s)",
      });
    }
  }
}
