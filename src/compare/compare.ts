/**
 * @module compare/compare
 * `compare`: for every HPA in the cluster, each of its metrics asked of the metrics APIs the
 * cluster serves now (through the API server, as the HPA controller asks them) and of our adapter
 * built in-process from a config; the two values, whether they are the same, and the replica
 * count the controller would compute from each. Plus the metric names one side lists and the
 * other does not. Only GETs, only what `kubectl get --raw` reads.
 */
import { StatusError } from "../apimachinery/status.ts";
import { parseQuantity } from "../apimachinery/quantity.ts";
import type { ApiGroup } from "../apis/types.ts";
import { KubeApiError, type KubeClient } from "../kube/client.ts";
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
import { readBody, sameValue, type Reading } from "./readings.ts";
import {
  ReplicaError,
  averageValueReplicas,
  hpaReplicas,
  plainMetricReplicas,
  utilizationReplicas,
  valueReplicas,
  type PodFacts,
  type Proposal,
  type Tolerances,
} from "../hpa/replica-calculator.ts";
import { humanMilli, isBytes } from "./units.ts";

export type MetricStatus =
  "same" | "different" | "missing-ours" | "missing-theirs" | "missing-both" | "skipped";

export interface SideValue {
  /** The value the HPA would see (`averageValue`, `value`, utilization `%`), for people. */
  readonly value?: string;
  readonly valueMilli?: number;
  /** Pods and Resource metrics: each pod's value, milli-units. */
  readonly pods?: Readonly<Record<string, number>>;
  /** Why there is no value: the API's error, or what the controller would say. */
  readonly error?: string;
  /** The replicas this metric proposes. */
  readonly replicas?: number;
  readonly replicasError?: string;
}

export interface MetricComparison {
  readonly index: number;
  readonly type: string;
  readonly metric: string;
  readonly target: string;
  readonly status: MetricStatus;
  /** What differs, for people. */
  readonly detail?: string;
  readonly ours: SideValue;
  readonly theirs: SideValue;
}

export interface HpaComparison {
  readonly namespace: string;
  readonly name: string;
  readonly scaleTarget: string;
  readonly currentReplicas?: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** `unchecked`: the HPA's target could not be read, so nothing was asked. */
  readonly status: "same" | "different" | "unchecked";
  readonly error?: string;
  readonly metrics: readonly MetricComparison[];
  /** The desired replicas from all metrics, before stabilization and rate limits. */
  readonly replicas: { readonly ours?: number; readonly theirs?: number };
}

export interface DiscoveryComparison {
  readonly group: string;
  readonly version: string;
  /** Who answers this group in the cluster (`namespace/service` of its APIService), or `none`. */
  readonly servedBy: string;
  readonly onlyOurs: readonly string[];
  readonly onlyTheirs: readonly string[];
}

export interface CompareReport {
  readonly tolerance: { readonly relative: number; readonly rule: string };
  readonly discovery: readonly DiscoveryComparison[];
  readonly hpas: readonly HpaComparison[];
  /** Every metric the same and no discovery difference: exit 0. */
  readonly match: boolean;
}

export function toleranceRule(relative: number): string {
  return `values are the same when they differ by at most ${String(Math.round(relative * 1000) / 10)}% of the larger (or 1m, the HPA's rounding), or when the cluster's value lies between ours read just before and just after it: the two sides cannot read at the same instant, and a scrape (or kubelet resolution tick) landing between two reads moves a rate or gauge by a few percent; the HPA itself ignores changes of its usage ratio within 10%`;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly message: string;
}

/** The cluster's side: the same GETs the HPA controller makes, through the API server. */
export class ClusterSide {
  readonly #kube: KubeClient;
  constructor(kube: KubeClient) {
    this.#kube = kube;
  }

  async get(path: string): Promise<Answer> {
    try {
      return { status: 200, body: await this.#kube.json("GET", path), message: "" };
    } catch (e) {
      if (!(e instanceof KubeApiError)) throw e;
      let body: unknown;
      try {
        body = JSON.parse(e.body);
      } catch {
        body = undefined;
      }
      return { status: e.status, body, message: e.apiMessage ?? e.message };
    }
  }
}

/** Our side: the API groups' handlers, called in-process. */
async function oursGet(
  groups: ReadonlyMap<string, ApiGroup>,
  r: MetricRequest,
  version: string,
): Promise<Answer> {
  const g = groups.get(r.group);
  if (!g) {
    return { status: 404, body: undefined, message: `ours serves no ${r.group} with this config` };
  }
  try {
    const res = await g.handle(version, {
      method: "GET",
      segments: r.segments,
      query: new URLSearchParams(r.query),
    });
    return { status: res.status, body: res.body, message: "" };
  } catch (e) {
    if (e instanceof StatusError) {
      return { status: e.status.code, body: e.status, message: e.status.message };
    }
    return { status: 500, body: undefined, message: e instanceof Error ? e.message : String(e) };
  }
}

function reading(probe: MetricProbe, a: Answer): Reading {
  if (a.status !== 200) return { ok: false, error: `${String(a.status)}: ${a.message}` };
  return readBody(probe, a.body);
}

interface PodJson {
  metadata: { name: string; deletionTimestamp?: string };
  spec?: {
    containers?: ContainerJson[];
    initContainers?: (ContainerJson & { restartPolicy?: string })[];
  };
  status?: {
    phase?: string;
    startTime?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
  };
}

interface ContainerJson {
  name: string;
  resources?: { requests?: Record<string, string> };
}

function podFacts(p: PodJson, container: string | undefined): PodFacts {
  const ready = p.status?.conditions?.find((c) => c.type === "Ready");
  const requests = new Map<string, number | undefined>();
  const without = new Map<string, string>();
  // Containers plus restartable (sidecar) init containers, as calculatePodRequests.
  const containers = [
    ...(p.spec?.containers ?? []),
    ...(p.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always"),
  ].filter((c) => container === undefined || c.name === container);
  for (const resource of ["cpu", "memory"]) {
    let sum: number | undefined = 0;
    for (const c of containers) {
      const q = c.resources?.requests?.[resource];
      if (q === undefined) {
        sum = undefined;
        if (!without.has(resource)) without.set(resource, c.name);
        break;
      }
      sum += Number(parseQuantity(q).milliValue());
    }
    requests.set(resource, containers.length === 0 ? undefined : sum);
  }
  return {
    name: p.metadata.name,
    phase: p.status?.phase ?? "",
    deleting: p.metadata.deletionTimestamp !== undefined,
    ready: ready
      ? { status: ready.status, lastTransitionMs: Date.parse(ready.lastTransitionTime ?? "") || 0 }
      : undefined,
    startTimeMs: p.status?.startTime ? Date.parse(p.status.startTime) : undefined,
    requestsMilli: requests,
    containerWithoutRequest: without,
  };
}

interface Scale {
  readonly specReplicas: number;
  readonly statusReplicas: number;
  readonly selector: string;
}

interface HpaContext {
  readonly hpa: HpaJson;
  readonly scale: Scale;
  readonly pods: readonly PodJson[];
  readonly tolerances: Tolerances;
  readonly nowMs: number;
}

function propose(probe: MetricProbe, r: Reading, c: HpaContext): Proposal {
  if (!r.ok) throw new ReplicaError(r.error);
  const current = c.scale.specReplicas;
  const t = probe.target;
  const facts = () => c.pods.map((p) => podFacts(p, probe.container));
  if ("pods" in r) {
    const resource = probe.kind === "Pods" ? undefined : probe.name;
    if (t.type === "Utilization") {
      if (resource === undefined) throw new ReplicaError("a Utilization target needs a resource");
      return utilizationReplicas({
        metrics: r.pods,
        pods: facts(),
        current,
        targetUtilization: t.utilization ?? 0,
        tolerances: c.tolerances,
        resource,
        nowMs: c.nowMs,
      });
    }
    return plainMetricReplicas({
      metrics: r.pods,
      pods: facts(),
      current,
      targetMilli: t.milli ?? 0,
      tolerances: c.tolerances,
      ...(resource === undefined ? {} : { resource }),
      nowMs: c.nowMs,
    });
  }
  if (t.type === "AverageValue") {
    return averageValueReplicas({
      valueMilli: r.value,
      targetMilli: t.milli ?? 0,
      statusReplicas: c.scale.statusReplicas,
      tolerances: c.tolerances,
    });
  }
  return valueReplicas({
    valueMilli: r.value,
    targetMilli: t.milli ?? 0,
    current,
    pods: facts(),
    tolerances: c.tolerances,
  });
}

function sideValue(probe: MetricProbe, r: Reading, c: HpaContext): SideValue {
  if (!r.ok) return { error: r.error };
  const bytes = isBytes(probe.name);
  let proposal: Proposal | undefined;
  let replicasError: string | undefined;
  try {
    proposal = propose(probe, r, c);
  } catch (e) {
    replicasError = e instanceof Error ? e.message : String(e);
  }
  let valueMilli: number;
  let value: string;
  if ("pods" in r) {
    const all = [...r.pods.values()].map((s) => s.valueMilli);
    valueMilli = proposal?.usage ?? Math.trunc(all.reduce((a, b) => a + b, 0) / (all.length || 1));
    value =
      proposal?.utilization !== undefined
        ? `${String(proposal.utilization)}% (${humanMilli(valueMilli, bytes)})`
        : humanMilli(valueMilli, bytes);
  } else {
    // AverageValue targets: the controller reports value / status.replicas.
    valueMilli = proposal?.usage ?? r.value;
    value = humanMilli(valueMilli, bytes);
  }
  return {
    value,
    valueMilli,
    ...("pods" in r
      ? { pods: Object.fromEntries([...r.pods].map(([k, v]) => [k, v.valueMilli])) }
      : {}),
    ...(proposal ? { replicas: proposal.replicas } : {}),
    ...(replicasError === undefined ? {} : { replicasError }),
  };
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

async function servedBy(cluster: ClusterSide, group: string, version: string): Promise<string> {
  const a = await cluster.get(`/apis/apiregistration.k8s.io/v1/apiservices/${version}.${group}`);
  if (a.status === 404) return "none";
  if (a.status !== 200) return "unknown";
  const svc = (a.body as { spec?: { service?: { namespace?: string; name?: string } | null } }).spec
    ?.service;
  return svc ? `${svc.namespace ?? ""}/${svc.name ?? ""}` : "the API server itself";
}

async function listed(get: () => Promise<Answer>): Promise<readonly string[] | undefined> {
  const a = await get();
  if (a.status !== 200) return undefined;
  return ((a.body as { resources?: { name: string }[] }).resources ?? []).map((r) => r.name);
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
