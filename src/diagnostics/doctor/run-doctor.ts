/**
 * @module diagnostics/doctor/run-doctor
 * The cluster-side checklist, in the order a request travels: the aggregation layer, each metrics
 * APIService, who owns each metrics group, the adapter behind them (certificate, readiness,
 * version, RBAC), then every HPA whose metric fails. Reads only; every call is one the caller
 * could make with kubectl.
 */
import { KcmError } from "../../errors.ts";
import { checkAdapterRbac } from "../adapter-rbac.ts";
import { judgeAggregationLayer } from "../aggregation-layer.ts";
import type { Check } from "../checks.ts";
import { groupOwnership, ownershipChecks, serviceKey } from "../group-owners.ts";
import { checkAdapter, adapterServiceJson, serviceAccount } from "./adapter.ts";
import { adapterService, apiServiceChecks, apiServices } from "./apiservices.ts";
import { DoctorContext } from "./context.ts";
import { hpas } from "./hpas.ts";
import { errorText, summary, type DoctorOptions } from "./types.ts";

async function reachable(d: DoctorContext): Promise<void> {
  try {
    await d.kube.json("GET", "/version");
  } catch (e) {
    throw new KcmError(
      "KCM_ERR_CLUSTER_UNREACHABLE",
      `cannot reach the API server at ${d.kube.server}: ${errorText(e)}`,
      { cause: e },
    );
  }
}

async function aggregationLayer(d: DoctorContext): Promise<void> {
  let data: Record<string, string> | undefined;
  let error: string | undefined;
  try {
    const cm = await d.kube.json<{ data?: Record<string, string> }>(
      "GET",
      "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication",
    );
    data = cm.data ?? {};
  } catch (e) {
    error = errorText(e);
  }
  d.checks.push(...judgeAggregationLayer(data, error, d.now));
}

/** Runs every check; throws KcmError only when the API server cannot be reached at all. */
export async function runDoctor(o: DoctorOptions): Promise<Check[]> {
  const d = new DoctorContext(o);
  await reachable(d);
  await aggregationLayer(d);
  const apis = await apiServices(d);
  const ref = adapterService(d, apis);
  const svc = await adapterServiceJson(d, ref);
  const sa = await serviceAccount(d, ref, svc);
  await apiServiceChecks(d, apis, sa ? `${sa.namespace}:${sa.name}` : undefined);
  // The adapter's checks are gathered first: ownership needs the groups it serves, but is shown
  // right after the APIServices.
  const before = d.checks.length;
  const served = await checkAdapter(d, ref, svc, apis);
  const adapterChecks = d.checks.splice(before);
  d.checks.push(...ownershipChecks(groupOwnership(apis.map(summary)), ref, served));
  d.checks.push(...adapterChecks);
  if (sa) d.checks.push(...(await checkAdapterRbac(d.kube, sa)));
  else {
    d.checks.push({
      section: "adapter RBAC",
      status: "skip",
      title: `service account of ${serviceKey(ref)} not found; pass --adapter-service-account NAMESPACE/NAME to check its RBAC`,
    });
  }
  await hpas(d);
  return d.checks;
}
