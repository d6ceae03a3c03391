/**
 * @module diagnostics/doctor/hpas
 * Every HPA (of a namespace, or all): one not yet evaluated, one whose metric fails (decoded with
 * the metric names the APIs list, for "did you mean"), or one that scales.
 */
import { decodeHpaFailure } from "../hpa-conditions.ts";
import type { DoctorContext } from "./context.ts";
import { errorText, type HpaJson } from "./types.ts";

/** Metric names the custom and external APIs list, for "did you mean". */
export async function listedMetrics(
  d: DoctorContext,
): Promise<{ custom: Map<string, string[]>; external: string[] }> {
  const custom = new Map<string, string[]>();
  const external: string[] = [];
  const names = async (path: string): Promise<string[]> => {
    try {
      const l = await d.kube.json<{ resources?: { name?: string }[] }>("GET", path);
      return (l.resources ?? []).map((r) => r.name ?? "");
    } catch {
      return [];
    }
  };
  for (const n of await names("/apis/custom.metrics.k8s.io/v1beta2")) {
    const [resource, ...rest] = n.split("/");
    if (resource === undefined || rest.length === 0) continue;
    custom.set(resource, [...(custom.get(resource) ?? []), rest.join("/")]);
  }
  external.push(...(await names("/apis/external.metrics.k8s.io/v1beta1")));
  return { custom, external };
}

export async function hpas(d: DoctorContext): Promise<void> {
  const ns = d.o.namespace;
  const section = ns === undefined ? "HPAs (all namespaces)" : `HPAs in ${ns}`;
  const path =
    ns === undefined
      ? "/apis/autoscaling/v2/horizontalpodautoscalers"
      : `/apis/autoscaling/v2/namespaces/${encodeURIComponent(ns)}/horizontalpodautoscalers`;
  let items: HpaJson[];
  try {
    items = (await d.kube.json<{ items?: HpaJson[] }>("GET", path)).items ?? [];
  } catch (e) {
    d.checks.push({ section, status: "skip", title: `cannot list HPAs: ${errorText(e)}` });
    return;
  }
  if (items.length === 0) {
    d.checks.push({ section, status: "skip", title: "no HorizontalPodAutoscaler" });
    return;
  }
  let listed: Awaited<ReturnType<typeof listedMetrics>> | undefined;
  for (const h of items.sort((a, b) =>
    `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(
      `${b.metadata.namespace}/${b.metadata.name}`,
    ),
  )) {
    const id = `${h.metadata.namespace}/${h.metadata.name}`;
    const conditions = h.status?.conditions ?? [];
    if (conditions.length === 0) {
      d.checks.push({
        section,
        status: "skip",
        title: `${id}: not evaluated by the HPA controller yet`,
      });
      continue;
    }
    if (
      conditions.some((c) => c.type === "ScalingActive" && c.status === "False") ||
      conditions.some((c) => c.type === "AbleToScale" && c.status === "False")
    ) {
      listed ??= await listedMetrics(d);
      const l = listed;
      const failure = decodeHpaFailure(conditions, {
        listedMetrics: (resource) => l.custom.get(resource),
        externalMetrics: l.external,
      });
      if (failure) {
        d.checks.push({
          section,
          status: "fail",
          kind: failure.kind,
          title: `${id}: ${failure.condition}${failure.metric === undefined ? "" : ` (metric ${failure.metric})`}`,
          cause: failure.cause,
          fix: failure.fix,
        });
        continue;
      }
    }
    const metrics = (h.spec?.metrics ?? [])
      .map(
        (m) =>
          m.pods?.metric?.name ??
          m.object?.metric?.name ??
          m.external?.metric?.name ??
          m.resource?.name ??
          m.type ??
          "",
      )
      .join(", ");
    const active = conditions.find((c) => c.type === "ScalingActive");
    d.checks.push({
      section,
      status: "ok",
      title: `${id}: ${active?.reason ?? "scaling"}${metrics === "" ? "" : ` (${metrics})`}`,
    });
  }
}
