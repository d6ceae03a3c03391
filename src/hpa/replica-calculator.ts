/**
 * @module hpa/replica-calculator
 * The replica count the HPA controller proposes from metric values, with the steps of the
 * computation in words: one implementation for `explain` (which prints the steps) and `compare`
 * (which compares the counts). Mirrors kubernetes pkg/controller/podautoscaler/
 * replica_calculator.go (groupPods, calcPlainMetricReplicas, GetResourceReplicas,
 * getUsageRatioReplicaCount, getReadyPodsCount, Get{Object,External}PerPodMetricReplicas),
 * metrics/utilization.go (GetMetricUsageRatio, GetResourceUtilizationRatio) and the min/max
 * handling of horizontal.go. Values are milli-units (Quantity.MilliValue, integers) as the
 * controller uses. Stabilization windows and scaling-rate limits are left out: they depend on
 * the controller's history, not on the metric values. Pod grouping is in pod-groups.ts, the
 * decision over all metrics in hpa-decision.ts.
 */
import { groupPods, type Groups, type PodFacts, type PodSample } from "./pod-groups.ts";

/** The controller's default tolerance (--horizontal-pod-autoscaler-tolerance). */
export const DEFAULT_TOLERANCE = 0.1;
export interface Tolerances {
  readonly scaleUp: number;
  readonly scaleDown: number;
}

export const DEFAULT_TOLERANCES: Tolerances = {
  scaleUp: DEFAULT_TOLERANCE,
  scaleDown: DEFAULT_TOLERANCE,
};

/** One tolerance both ways (the controller flag; behavior can set each side). */
export function symmetricTolerances(t: number): Tolerances {
  return { scaleUp: t, scaleDown: t };
}

/** `1 - scaleDown <= ratio <= 1 + scaleUp` (inclusive, as Tolerances.isWithin). */
export function isWithin(t: Tolerances, ratio: number): boolean {
  return 1 - t.scaleDown <= ratio && ratio <= 1 + t.scaleUp;
}

/** The controller's failure (its own message), with the steps that led to it. */
export class ReplicaError extends Error {
  override readonly name = "ReplicaError";
  readonly steps: readonly string[];
  constructor(message: string, steps: readonly string[] = []) {
    super(message);
    // A copy: the computation goes on pushing to its own list after a caught failure.
    this.steps = [...steps];
  }
}

export interface Proposal {
  readonly replicas: number;
  /** What the controller would report as current (status.currentMetrics), milli-units. */
  readonly usage: number;
  /** Utilization in percent, for Resource Utilization targets. */
  readonly utilization?: number;
  /** The first usage ratio (before missing and unready pods are filled in). */
  readonly usageRatio: number;
  /** Human steps of the computation, in order. */
  readonly steps: readonly string[];
}

/** A number for the steps: integers as they are, others to 3 decimals. */
function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3).replace(/\.?0+$/, "");
}

function withinText(t: Tolerances, ratio: number, current: number): string {
  const range =
    t.scaleUp === t.scaleDown
      ? `|1 − ${fmt(ratio)}| ≤ tolerance ${fmt(t.scaleUp)}`
      : `${fmt(ratio)} within tolerance ${fmt(1 - t.scaleDown)}..${fmt(1 + t.scaleUp)}`;
  return `${range}: keep ${String(current)}`;
}

function names(s: ReadonlySet<string>): string {
  return s.size > 0 ? ` (${[...s].join(", ")})` : "";
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

/** How a path (plain or utilization) words and computes its ratio. */
interface RatioPath {
  /** The value a missing pod counts as on a scale-down. */
  readonly missingValue: (pod: string) => number;
  readonly missingText: string;
  readonly ratioOf: (m: ReadonlyMap<string, number>) => number;
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
  path: RatioPath,
  steps: string[],
): number {
  const scaleUpWithUnready = g.unready.size > 0 && ratio > 1;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (isWithin(t, ratio)) {
      steps.push(withinText(t, ratio, current));
      return current;
    }
    const r = Math.ceil(ratio * g.readyPodCount);
    steps.push(`ceil(${fmt(ratio)} × ${String(g.readyPodCount)} pods) = ${String(r)}`);
    return r;
  }
  // Missing pods count as the target on a scale-down, nothing on a scale-up (and are left out
  // at a ratio of exactly 1); on a scale-up, unready pods count as using nothing.
  let filled = "";
  if (g.missing.size > 0 && ratio < 1) {
    for (const p of g.missing) samples.set(p, path.missingValue(p));
    filled = `missing pods counted as ${path.missingText} (scale-down)`;
  } else if (g.missing.size > 0 && ratio > 1) {
    for (const p of g.missing) samples.set(p, 0);
    filled = "missing pods counted as 0 (scale-up)";
  }
  if (scaleUpWithUnready) {
    for (const p of g.unready) samples.set(p, 0);
    filled += `${filled ? ", " : ""}unready pods as 0 (scale-up)`;
  }
  const newRatio = path.ratioOf(samples);
  steps.push(`${filled || "missing pods left out (ratio 1)"}: usage ratio ${fmt(newRatio)}`);
  if (isWithin(t, newRatio) || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) {
    steps.push(`within tolerance or direction reversed: keep ${String(current)}`);
    return current;
  }
  const next = Math.ceil(newRatio * samples.size);
  if ((newRatio < 1 && next > current) || (newRatio > 1 && next < current)) {
    steps.push(`ceil gives ${String(next)}, against the direction: keep ${String(current)}`);
    return current;
  }
  steps.push(`ceil(${fmt(newRatio)} × ${String(samples.size)} pods) = ${String(next)}`);
  return next;
}

function readySamples(
  pods: readonly PodFacts[],
  metrics: ReadonlyMap<string, PodSample>,
  resource: string | undefined,
  nowMs: number,
  steps: string[],
): { g: Groups; samples: Map<string, number> } {
  if (pods.length === 0) {
    throw new ReplicaError("no pods returned by selector while calculating replica count", steps);
  }
  const g = groupPods(pods, metrics, resource, nowMs);
  const samples = new Map<string, number>();
  // Samples of pods the selector did not list stay, as upstream only removes ignored/unready.
  for (const [name, m] of metrics) {
    if (!g.ignored.has(name) && !g.unready.has(name)) samples.set(name, m.valueMilli);
  }
  const unreadyWhy = resource === "cpu" ? "Pending or not yet ready for cpu" : "Pending";
  steps.push(
    `${String(pods.length)} pod(s): ${String(g.readyPodCount)} with a value, ${String(g.missing.size)} missing${names(g.missing)}, ${String(g.unready.size)} unready (${unreadyWhy})${names(g.unready)}, ${String(g.ignored.size)} ignored (deleted or Failed)`,
  );
  if (samples.size === 0) {
    throw new ReplicaError(
      "did not receive metrics for targeted pods (pods might be unready)",
      steps,
    );
  }
  return { g, samples };
}

/** What the per-pod paths (Pods metrics, Resource metrics) start from. */
export interface PodMetricInput {
  /** Samples by pod name. */
  readonly metrics: ReadonlyMap<string, PodSample>;
  /** The pods the scale target's selector lists. */
  readonly pods: readonly PodFacts[];
  /** The scale target's spec.replicas. */
  readonly current: number;
  readonly tolerances: Tolerances;
  readonly nowMs: number;
}

/** Pods metrics and Resource AverageValue targets (calcPlainMetricReplicas). */
export function plainMetricReplicas(
  o: PodMetricInput & {
    readonly targetMilli: number;
    /** `cpu` or `memory` for Resource metrics (CPU has readiness rules of its own). */
    readonly resource?: string;
  },
): Proposal {
  const steps: string[] = [];
  const { g, samples } = readySamples(o.pods, o.metrics, o.resource, o.nowMs, steps);
  const { ratio, usage } = usageRatio(samples, o.targetMilli);
  steps.push(
    `average ${fmt(usage / 1000)} / target ${fmt(o.targetMilli / 1000)} = usage ratio ${fmt(ratio)}`,
  );
  const replicas = rebalance(
    samples,
    g,
    ratio,
    o.current,
    o.tolerances,
    {
      missingValue: () => o.targetMilli,
      missingText: "at the target",
      ratioOf: (m) => usageRatio(m, o.targetMilli).ratio,
    },
    steps,
  );
  return { replicas, usage, usageRatio: ratio, steps };
}

/** Resource Utilization targets (GetResourceReplicas, GetResourceUtilizationRatio). */
export function utilizationReplicas(
  o: PodMetricInput & { readonly targetUtilization: number; readonly resource: string },
): Proposal {
  const steps: string[] = [];
  const { g, samples } = readySamples(o.pods, o.metrics, o.resource, o.nowMs, steps);
  // calculatePodRequests: every listed pod needs a request for the resource.
  const requests = new Map<string, number>();
  for (const p of o.pods) {
    const r = p.requestsMilli?.get(o.resource);
    if (r === undefined) {
      const c = p.containerWithoutRequest?.get(o.resource) ?? "";
      throw new ReplicaError(
        `missing request for ${o.resource} in container ${c} of Pod ${p.name}`,
        steps,
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
    if (request === 0) throw new ReplicaError("no metrics returned matched known pods", steps);
    const utilization = Math.trunc((usage * 100) / request);
    return { ratio: utilization / o.targetUtilization, utilization, average: usage / m.size };
  };
  const first = ratioOf(samples);
  steps.push(
    `utilization ${String(first.utilization)}% of the requests / target ${String(o.targetUtilization)}% = usage ratio ${fmt(first.ratio)}`,
  );
  // Missing pods count at max(100, target)% of their request when scaling down (1.33+).
  const fallback = Math.max(100, o.targetUtilization);
  const replicas = rebalance(
    samples,
    g,
    first.ratio,
    o.current,
    o.tolerances,
    {
      missingValue: (p) => Math.trunc(((requests.get(p) ?? 0) * fallback) / 100),
      missingText: `${String(fallback)}% of their request`,
      ratioOf: (m) => ratioOf(m).ratio,
    },
    steps,
  );
  return {
    replicas,
    usage: Math.trunc(first.average),
    utilization: first.utilization,
    usageRatio: first.ratio,
    steps,
  };
}

/** Pods that are Running and Ready=True (getReadyPodsCount). */
export function readyPodsCount(pods: readonly PodFacts[], steps: readonly string[] = []): number {
  if (pods.length === 0) {
    throw new ReplicaError(
      "unable to calculate ready pods: no pods returned by selector while calculating replica count",
      steps,
    );
  }
  return pods.filter((p) => p.phase === "Running" && p.ready?.status === "True").length;
}

/** Object and External `Value` targets (getUsageRatioReplicaCount); valueMilli is the sum for External. */
export function valueReplicas(o: {
  readonly valueMilli: number;
  readonly targetMilli: number;
  readonly current: number;
  readonly pods: readonly PodFacts[];
  readonly tolerances: Tolerances;
}): Proposal {
  const ratio = o.valueMilli / o.targetMilli;
  const steps = [
    `value ${fmt(o.valueMilli / 1000)} / target ${fmt(o.targetMilli / 1000)} = usage ratio ${fmt(ratio)}`,
  ];
  const done = (replicas: number, step: string): Proposal => {
    steps.push(step);
    return { replicas, usage: o.valueMilli, usageRatio: ratio, steps };
  };
  if (o.current === 0) {
    return done(
      Math.ceil(ratio),
      `0 replicas now: ceil(${fmt(ratio)}) = ${String(Math.ceil(ratio))}`,
    );
  }
  if (isWithin(o.tolerances, ratio))
    return done(o.current, withinText(o.tolerances, ratio, o.current));
  const ready = readyPodsCount(o.pods, steps);
  const r = Math.ceil(ratio * ready);
  return done(r, `ceil(${fmt(ratio)} × ${String(ready)} ready pods) = ${String(r)}`);
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
  const steps = [
    `value ${fmt(o.valueMilli / 1000)} / (target ${fmt(o.targetMilli / 1000)} × ${String(o.statusReplicas)} replicas) = usage ratio ${fmt(ratio)}`,
  ];
  let replicas = o.statusReplicas;
  if (isWithin(o.tolerances, ratio)) steps.push(withinText(o.tolerances, ratio, replicas));
  else {
    replicas = Math.ceil(o.valueMilli / o.targetMilli);
    steps.push(
      `ceil(${fmt(o.valueMilli / 1000)} / ${fmt(o.targetMilli / 1000)}) = ${String(replicas)}`,
    );
  }
  return {
    replicas,
    usage: Math.ceil(o.valueMilli / o.statusReplicas),
    usageRatio: ratio,
    steps,
  };
}
