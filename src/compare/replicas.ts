/**
 * @module compare/replicas
 * The replica count the HPA controller would propose from one metric value, mirroring
 * kubernetes pkg/controller/podautoscaler/replica_calculator.go (groupPods,
 * calcPlainMetricReplicas, GetResourceReplicas, getUsageRatioReplicaCount,
 * GetObjectPerPodMetricReplicas, GetExternalPerPodMetricReplicas) and the min/max clamp of
 * horizontal.go. Values are milli-units (Quantity.MilliValue, integers) as the controller uses.
 * Stabilization windows and scaling-rate limits are left out: they depend on the controller's
 * history, not on the metric value.
 */

/** The controller's default tolerance (--horizontal-pod-autoscaler-tolerance). */
export const DEFAULT_TOLERANCE = 0.1;
/** --horizontal-pod-autoscaler-cpu-initialization-period and -initial-readiness-delay defaults. */
const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
const INITIAL_READINESS_DELAY_MS = 30_000;

export interface Tolerances {
  readonly scaleUp: number;
  readonly scaleDown: number;
}

export const DEFAULT_TOLERANCES: Tolerances = {
  scaleUp: DEFAULT_TOLERANCE,
  scaleDown: DEFAULT_TOLERANCE,
};

/** `1 - scaleDown <= ratio <= 1 + scaleUp` (inclusive, as Tolerances.isWithin). */
export function isWithin(t: Tolerances, ratio: number): boolean {
  return 1 - t.scaleDown <= ratio && ratio <= 1 + t.scaleUp;
}

/** What of a pod the controller looks at. */
export interface PodFacts {
  readonly name: string;
  readonly phase: string;
  readonly deleting: boolean;
  /** The Ready condition's status and last transition, when the pod has one. */
  readonly ready?: { readonly status: string; readonly lastTransitionMs: number } | undefined;
  readonly startTimeMs?: number | undefined;
  /** Per resource name, the pod's request in milli-units; undefined when a container lacks it. */
  readonly requestsMilli?: ReadonlyMap<string, number | undefined>;
  /** For a missing request: the first container without one (for the error text). */
  readonly containerWithoutRequest?: ReadonlyMap<string, string>;
}

export interface PodSample {
  readonly valueMilli: number;
  readonly timestampMs: number;
  readonly windowMs: number;
}

export class ReplicaError extends Error {
  override readonly name = "ReplicaError";
}

interface Groups {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

/** groupPods: ignored (deleting, Failed), unready (Pending; CPU warm-up rules), missing (no sample). */
export function groupPods(
  pods: readonly PodFacts[],
  metrics: ReadonlyMap<string, PodSample>,
  resource: string | undefined,
  nowMs: number,
): Groups {
  const g: Groups = {
    readyPodCount: 0,
    unready: new Set(),
    missing: new Set(),
    ignored: new Set(),
  };
  for (const pod of pods) {
    if (pod.deleting || pod.phase === "Failed") {
      g.ignored.add(pod.name);
      continue;
    }
    if (pod.phase === "Pending") {
      g.unready.add(pod.name);
      continue;
    }
    const m = metrics.get(pod.name);
    if (!m) {
      g.missing.add(pod.name);
      continue;
    }
    if (resource === "cpu") {
      let unready: boolean;
      const c = pod.ready;
      if (!c || pod.startTimeMs === undefined) unready = true;
      else if (pod.startTimeMs + CPU_INITIALIZATION_PERIOD_MS > nowMs) {
        // Still warming up: unready if not Ready, or the sample predates readiness + a window.
        unready = c.status === "False" || m.timestampMs < c.lastTransitionMs + m.windowMs;
      } else {
        // Past warm-up: unready only if it never became ready.
        unready =
          c.status === "False" && pod.startTimeMs + INITIAL_READINESS_DELAY_MS > c.lastTransitionMs;
      }
      if (unready) {
        g.unready.add(pod.name);
        continue;
      }
    }
    g.readyPodCount++;
  }
  return g;
}

/** GetMetricUsageRatio: the integer average (Go int64 division) and its ratio to the target. */
function usageRatio(
  metrics: ReadonlyMap<string, number>,
  target: number,
): { ratio: number; usage: number } {
  let total = 0;
  for (const v of metrics.values()) total += v;
  const usage = Math.trunc(total / metrics.size);
  return { ratio: usage / target, usage };
}

export interface Proposal {
  readonly replicas: number;
  /** What the controller would report as current (status.currentMetrics), milli-units. */
  readonly usage: number;
  /** Utilization in percent, for Resource Utilization targets. */
  readonly utilization?: number;
}

/**
 * The fill-in of missing and unready pods and the second ratio, shared by the plain and the
 * utilization paths (calcPlainMetricReplicas and GetResourceReplicas).
 */
function rebalance(
  samples: Map<string, number>,
  g: Groups,
  ratio: number,
  current: number,
  t: Tolerances,
  missingValue: (pod: string) => number,
  newRatioOf: (m: ReadonlyMap<string, number>) => number,
): number {
  const scaleUpWithUnready = g.unready.size > 0 && ratio > 1;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    return isWithin(t, ratio) ? current : Math.ceil(ratio * g.readyPodCount);
  }
  for (const p of g.missing) samples.set(p, ratio < 1 ? missingValue(p) : 0);
  if (scaleUpWithUnready) for (const p of g.unready) samples.set(p, 0);
  const newRatio = newRatioOf(samples);
  if (isWithin(t, newRatio) || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) {
    return current;
  }
  const next = Math.ceil(newRatio * samples.size);
  if ((newRatio < 1 && next > current) || (newRatio > 1 && next < current)) return current;
  return next;
}

function readySamples(
  pods: readonly PodFacts[],
  metrics: ReadonlyMap<string, PodSample>,
  resource: string | undefined,
  nowMs: number,
): { g: Groups; samples: Map<string, number> } {
  if (pods.length === 0) {
    throw new ReplicaError("no pods returned by selector while calculating replica count");
  }
  const g = groupPods(pods, metrics, resource, nowMs);
  const samples = new Map<string, number>();
  for (const [name, m] of metrics) {
    if (!g.ignored.has(name) && !g.unready.has(name)) samples.set(name, m.valueMilli);
  }
  if (samples.size === 0) {
    throw new ReplicaError("did not receive metrics for targeted pods (pods might be unready)");
  }
  return { g, samples };
}

/** Pods metrics and Resource AverageValue targets (calcPlainMetricReplicas). */
export function plainMetricReplicas(o: {
  readonly metrics: ReadonlyMap<string, PodSample>;
  readonly pods: readonly PodFacts[];
  readonly current: number;
  readonly targetMilli: number;
  readonly tolerances: Tolerances;
  /** `cpu` or `memory` for Resource metrics (CPU has readiness rules of its own). */
  readonly resource?: string;
  readonly nowMs: number;
}): Proposal {
  const { g, samples } = readySamples(o.pods, o.metrics, o.resource, o.nowMs);
  const { ratio, usage } = usageRatio(samples, o.targetMilli);
  const replicas = rebalance(
    samples,
    g,
    ratio,
    o.current,
    o.tolerances,
    () => o.targetMilli,
    (m) => usageRatio(m, o.targetMilli).ratio,
  );
  return { replicas, usage };
}

/** Resource Utilization targets (GetResourceReplicas, GetResourceUtilizationRatio). */
export function utilizationReplicas(o: {
  readonly metrics: ReadonlyMap<string, PodSample>;
  readonly pods: readonly PodFacts[];
  readonly current: number;
  readonly targetUtilization: number;
  readonly tolerances: Tolerances;
  readonly resource: string;
  readonly nowMs: number;
}): Proposal {
  const { g, samples } = readySamples(o.pods, o.metrics, o.resource, o.nowMs);
  // calculatePodRequests: every listed pod needs a request for the resource.
  const requests = new Map<string, number>();
  for (const p of o.pods) {
    const r = p.requestsMilli?.get(o.resource);
    if (r === undefined) {
      const c = p.containerWithoutRequest?.get(o.resource) ?? "";
      throw new ReplicaError(
        `missing request for ${o.resource} in container ${c} of Pod ${p.name}`,
      );
    }
    requests.set(p.name, r);
  }
  const ratioOf = (m: ReadonlyMap<string, number>) => {
    let usage = 0;
    let request = 0;
    for (const [pod, v] of m) {
      const r = requests.get(pod);
      if (r === undefined) continue;
      usage += v;
      request += r;
    }
    if (request === 0) throw new ReplicaError("no metrics returned matched known pods");
    const utilization = Math.trunc((usage * 100) / request);
    return { ratio: utilization / o.targetUtilization, utilization, average: usage / m.size };
  };
  const first = ratioOf(samples);
  // Missing pods count at max(100, target)% of their request when scaling down (1.33+).
  const fallback = Math.max(100, o.targetUtilization);
  const replicas = rebalance(
    samples,
    g,
    first.ratio,
    o.current,
    o.tolerances,
    (p) => Math.trunc(((requests.get(p) ?? 0) * fallback) / 100),
    (m) => ratioOf(m).ratio,
  );
  return { replicas, usage: Math.trunc(first.average), utilization: first.utilization };
}

/** Pods that are Running and Ready=True (getReadyPodsCount). */
export function readyPodsCount(pods: readonly PodFacts[]): number {
  if (pods.length === 0) {
    throw new ReplicaError("no pods returned by selector while calculating replica count");
  }
  return pods.filter((p) => p.phase === "Running" && p.ready?.status === "True").length;
}

/** Object and External `Value` targets (getUsageRatioReplicaCount). */
export function valueReplicas(o: {
  readonly valueMilli: number;
  readonly targetMilli: number;
  readonly current: number;
  readonly pods: readonly PodFacts[];
  readonly tolerances: Tolerances;
}): Proposal {
  const ratio = o.valueMilli / o.targetMilli;
  if (o.current === 0) return { replicas: Math.ceil(ratio), usage: o.valueMilli };
  if (isWithin(o.tolerances, ratio)) return { replicas: o.current, usage: o.valueMilli };
  return { replicas: Math.ceil(ratio * readyPodsCount(o.pods)), usage: o.valueMilli };
}

/** Object and External `AverageValue` targets (Get{Object,External}PerPodMetricReplicas). */
export function averageValueReplicas(o: {
  readonly valueMilli: number;
  readonly targetMilli: number;
  /** The target's status.replicas. */
  readonly statusReplicas: number;
  readonly tolerances: Tolerances;
}): Proposal {
  const ratio = o.valueMilli / (o.targetMilli * o.statusReplicas);
  const replicas = isWithin(o.tolerances, ratio)
    ? o.statusReplicas
    : Math.ceil(o.valueMilli / o.targetMilli);
  return { replicas, usage: Math.ceil(o.valueMilli / o.statusReplicas) };
}

/**
 * The HPA's decision from its metrics' proposals before stabilization and rate limits
 * (horizontal.go reconcileAutoscaler): outside [min, max] the current count is brought in; a
 * target at 0 replicas with min > 0 is not scaled; otherwise the largest proposal, clamped (the
 * controller's scale-up limit and behavior policies are left out).
 */
export function hpaReplicas(o: {
  readonly current: number;
  readonly min: number;
  readonly max: number;
  readonly proposals: readonly number[];
  /** Whether some metric gave no proposal (an error). */
  readonly failed: boolean;
}): number {
  if (o.current === 0 && o.min !== 0) return 0;
  if (o.current > o.max) return o.max;
  if (o.current < o.min) return o.min;
  const best = Math.max(...o.proposals);
  // All failed, or one failed and the others would scale down: nothing is scaled.
  if (o.proposals.length === 0 || (o.failed && best < o.current)) return o.current;
  return Math.min(o.max, Math.max(o.min, best));
}
