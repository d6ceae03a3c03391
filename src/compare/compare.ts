/**
 * @module compare/compare
 * `compare`: for every HPA in the cluster, each of its metrics asked of the metrics APIs the
 * cluster serves now (through the API server, as the HPA controller asks them) and of our adapter
 * built in-process from a config; the two values, whether they are the same, and the replica
 * count the controller would compute from each. Plus the metric names one side lists and the
 * other does not. Only GETs, only what `kubectl get --raw` reads.
 */
import type { KubeClient } from "../kube/client.ts";
import {
  CUSTOM,
  EXTERNAL,
  RESOURCE,
  metricProbes,
  requestPath,
  tolerancesOf,
  type HpaJson,
  type MetricProbe,
  type MetricRequest,
} from "./hpa-metrics.ts";
import type { OurAdapter } from "./our-adapter.ts";
import { sameValue, type Reading } from "./readings.ts";
import { hpaReplicas } from "../hpa/hpa-decision.ts";
import { sideValue, type HpaContext, type PodJson, type Scale } from "./side-value.ts";
import { ClusterSide, listed, oursGet, reading, servedBy } from "./sides.ts";
import type {
  CompareReport,
  DiscoveryComparison,
  HpaComparison,
  MetricComparison,
  MetricStatus,
} from "./types.ts";
import { humanMilli, isBytes } from "./units.ts";

export function toleranceRule(relative: number): string {
  return `values are the same when they differ by at most ${String(Math.round(relative * 1000) / 10)}% of the larger (or 1m, the HPA's rounding), or when the cluster's value lies between ours read just before and just after it: the two sides cannot read at the same instant, and a scrape (or kubelet resolution tick) landing between two reads moves a rate or gauge by a few percent; the HPA itself ignores changes of its usage ratio within 10%`;
}

/** Same up to sample timing? Undefined when they are; else what differs. */
function difference(
  probe: MetricProbe,
  ours: Reading & { ok: true },
  theirs: Reading & { ok: true },
  oursAgain: Reading | undefined,
  relative: number,
): string | undefined {
  const bytes = isBytes(probe.name);
  const h = (m: number) => humanMilli(m, bytes);
  if ("pods" in ours && "pods" in theirs) {
    const again = oursAgain?.ok && "pods" in oursAgain ? oursAgain.pods : undefined;
    const onlyOurs = [...ours.pods.keys()].filter((p) => !theirs.pods.has(p));
    const onlyTheirs = [...theirs.pods.keys()].filter((p) => !ours.pods.has(p));
    const out: string[] = [];
    if (onlyOurs.length > 0) out.push(`pods only ours has: ${onlyOurs.sort().join(", ")}`);
    if (onlyTheirs.length > 0) out.push(`pods only theirs has: ${onlyTheirs.sort().join(", ")}`);
    for (const [pod, s] of ours.pods) {
      const t = theirs.pods.get(pod);
      if (!t) continue;
      const after = again?.get(pod)?.valueMilli;
      if (!sameValue(s.valueMilli, t.valueMilli, relative, after)) {
        out.push(`${pod}: ours ${h(s.valueMilli)}, theirs ${h(t.valueMilli)}`);
      }
    }
    return out.length === 0 ? undefined : out.join("; ");
  }
  if ("value" in ours && "value" in theirs) {
    const after = oursAgain?.ok && "value" in oursAgain ? oursAgain.value : undefined;
    return sameValue(ours.value, theirs.value, relative, after)
      ? undefined
      : `ours ${h(ours.value)}, theirs ${h(theirs.value)}`;
  }
  return "the answers have different shapes";
}

export interface CompareOptions {
  readonly kube: KubeClient;
  readonly ours: OurAdapter;
  /** Relative tolerance for values, e.g. 0.05. */
  readonly tolerance: number;
  /** Only the HPAs of this namespace; default all. */
  readonly namespace?: string | undefined;
  readonly now?: () => number;
}

export async function runCompare(o: CompareOptions): Promise<CompareReport> {
  const cluster = new ClusterSide(o.kube);
  const now = o.now ?? Date.now;
  const groups = o.ours.groups;

  // The custom metrics version the HPA controller would use: the cluster's preferred one.
  const customGroup = await cluster.get(`/apis/${CUSTOM}`);
  const preferred =
    customGroup.status === 200
      ? (customGroup.body as { preferredVersion?: { version?: string } }).preferredVersion?.version
      : undefined;
  const customVersion = preferred ?? groups.get(CUSTOM)?.versions[0] ?? "v1beta2";
  const oursVersion = (r: MetricRequest) => {
    if (r.group !== CUSTOM) return r.version;
    const g = groups.get(CUSTOM);
    return g === undefined || g.versions.includes(customVersion)
      ? customVersion
      : (g.versions[0] ?? customVersion);
  };

  const discovery: DiscoveryComparison[] = [];
  for (const [group, version] of [
    [CUSTOM, customVersion],
    [EXTERNAL, "v1beta1"],
  ] as const) {
    const theirs = await listed(() => cluster.get(`/apis/${group}/${version}`));
    const g = groups.get(group);
    const ours = g
      ? ((g.resourceList(version) as { resources?: { name: string }[] }).resources ?? []).map(
          (r) => r.name,
        )
      : [];
    const t = new Set(theirs ?? []);
    const s = new Set(ours);
    discovery.push({
      group,
      version,
      servedBy: await servedBy(cluster, group, version),
      onlyOurs: ours.filter((n) => !t.has(n)).sort(),
      onlyTheirs: [...t].filter((n) => !s.has(n)).sort(),
    });
  }

  const hpaPath =
    o.namespace === undefined
      ? "/apis/autoscaling/v2/horizontalpodautoscalers"
      : `/apis/autoscaling/v2/namespaces/${encodeURIComponent(o.namespace)}/horizontalpodautoscalers`;
  const hpaList = await o.kube.json<{ items: HpaJson[] }>("GET", hpaPath);
  const hpas = [...hpaList.items].sort((a, b) =>
    `${a.metadata.namespace}/${a.metadata.name}` < `${b.metadata.namespace}/${b.metadata.name}`
      ? -1
      : 1,
  );
  const resourceOf = (group: string, kind: string) =>
    o.ours.mapper.resources.find((r) => r.group === group && r.kind === kind)?.resource;

  const results: HpaComparison[] = [];
  for (const hpa of hpas) {
    results.push(await compareHpa(hpa));
  }

  async function compareHpa(hpa: HpaJson): Promise<HpaComparison> {
    const ns = hpa.metadata.namespace;
    const ref = hpa.spec.scaleTargetRef;
    const base = {
      namespace: ns,
      name: hpa.metadata.name,
      scaleTarget: `${ref.kind}/${ref.name}`,
      minReplicas: hpa.spec.minReplicas ?? 1,
      maxReplicas: hpa.spec.maxReplicas,
    };
    const apiVersion = ref.apiVersion ?? "v1";
    const group = apiVersion.includes("/") ? (apiVersion.split("/")[0] ?? "") : "";
    const resource = resourceOf(group, ref.kind);
    if (resource === undefined) {
      return {
        ...base,
        status: "unchecked",
        error: `the cluster has no resource of kind ${ref.kind} (${apiVersion})`,
        metrics: [],
        replicas: {},
      };
    }
    const prefix = group === "" ? `/api/${apiVersion}` : `/apis/${apiVersion}`;
    const scaleAnswer = await cluster.get(
      `${prefix}/namespaces/${encodeURIComponent(ns)}/${resource}/${encodeURIComponent(ref.name)}/scale`,
    );
    if (scaleAnswer.status !== 200) {
      return {
        ...base,
        status: "unchecked",
        error: `cannot read the target's scale: ${scaleAnswer.message}`,
        metrics: [],
        replicas: {},
      };
    }
    const sb = scaleAnswer.body as {
      spec?: { replicas?: number };
      status?: { replicas?: number; selector?: string };
    };
    const scale: Scale = {
      specReplicas: sb.spec?.replicas ?? 0,
      statusReplicas: sb.status?.replicas ?? 0,
      selector: sb.status?.selector ?? "",
    };
    const podsAnswer = await cluster.get(
      `/api/v1/namespaces/${encodeURIComponent(ns)}/pods${scale.selector === "" ? "" : `?labelSelector=${encodeURIComponent(scale.selector)}`}`,
    );
    const pods = podsAnswer.status === 200 ? (podsAnswer.body as { items: PodJson[] }).items : [];
    const ctx: HpaContext = {
      hpa,
      scale,
      pods,
      tolerances: tolerancesOf(hpa),
      nowMs: now(),
    };
    const metrics: MetricComparison[] = [];
    const probes = metricProbes(hpa, scale.selector, resourceOf);
    for (const [i, p] of probes.entries()) {
      if (p instanceof Error) {
        metrics.push({
          index: i,
          type: hpa.spec.metrics?.[i]?.type ?? "",
          metric: "",
          target: "",
          status: "skipped",
          detail: p.message,
          ours: {},
          theirs: {},
        });
        continue;
      }
      metrics.push(await compareMetric(p, ctx));
    }
    const side = (which: "ours" | "theirs") =>
      hpaReplicas({
        current: scale.specReplicas,
        min: base.minReplicas,
        max: base.maxReplicas,
        proposals: metrics.flatMap((m) =>
          m[which].replicas === undefined ? [] : [m[which].replicas],
        ),
        failed: metrics.some((m) => m.status !== "skipped" && m[which].replicas === undefined),
      });
    const differs = metrics.some(
      (m) =>
        m.status === "different" || m.status === "missing-ours" || m.status === "missing-theirs",
    );
    return {
      ...base,
      currentReplicas: scale.specReplicas,
      status: differs ? "different" : "same",
      metrics,
      replicas: { ours: side("ours"), theirs: side("theirs") },
    };
  }

  async function compareMetric(p: MetricProbe, ctx: HpaContext): Promise<MetricComparison> {
    const head = {
      index: p.index,
      type: p.kind,
      metric: p.label,
      target: p.target.text,
    };
    if (p.request.group === RESOURCE && !groups.has(RESOURCE)) {
      return {
        ...head,
        status: "skipped",
        detail:
          "ours serves no metrics.k8s.io with this config (no resourceRules); pass --resource-metrics-source to compare Resource metrics",
        ours: {},
        theirs: {},
      };
    }
    const theirsPath = requestPath(
      p.request,
      p.request.group === CUSTOM ? customVersion : p.request.version,
    );
    const ours1 = reading(p, await oursGet(groups, p.request, oursVersion(p.request)));
    const theirs = reading(p, await cluster.get(theirsPath));
    let status: MetricStatus;
    let detail: string | undefined;
    if (ours1.ok && theirs.ok) {
      detail = difference(p, ours1, theirs, undefined, o.tolerance);
      if (detail !== undefined) {
        // A second read of ours, after theirs: a value between the two is a timing difference.
        const ours2 = reading(p, await oursGet(groups, p.request, oursVersion(p.request)));
        detail = difference(p, ours1, theirs, ours2, o.tolerance);
      }
      status = detail === undefined ? "same" : "different";
    } else if (ours1.ok) {
      status = "missing-theirs";
    } else if (theirs.ok) {
      status = "missing-ours";
    } else {
      status = "missing-both";
    }
    return {
      ...head,
      status,
      ...(detail === undefined ? {} : { detail }),
      ours: sideValue(p, ours1, ctx),
      theirs: sideValue(p, theirs, ctx),
    };
  }

  const match =
    discovery.every((d) => d.onlyOurs.length === 0 && d.onlyTheirs.length === 0) &&
    results.every((h) => h.status !== "different");
  return {
    tolerance: { relative: o.tolerance, rule: toleranceRule(o.tolerance) },
    discovery,
    hpas: results,
    match,
  };
}
