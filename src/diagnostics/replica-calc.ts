/**
 * @module diagnostics/replica-calc
 * What the HPA controller computes from the values the metrics API answers, for `explain`:
 * which pods count, the usage ratio, the tolerance, the missing-pods rule and the min/max clamp.
 * Mirrors kube's pkg/controller/podautoscaler/replica_calculator.go (groupPods,
 * calcPlainMetricReplicas, GetObjectMetricReplicas, GetObjectPerPodMetricReplicas,
 * GetExternalMetricReplicas, GetExternalPerPodMetricReplicas) and metrics/utilization.go
 * (GetMetricUsageRatio); values are compared in milli-units as the controller does.
 */

/** The controller's default `--horizontal-pod-autoscaler-tolerance`. */
export const DEFAULT_TOLERANCE = 0.1;

export interface PodFacts {
  readonly name: string;
  readonly phase: string;
  readonly ready: boolean;
  readonly deleting: boolean;
}

export interface Calculation {
  /** The replica count this metric proposes, or undefined when the controller fails. */
  readonly replicas?: number;
  /** Why the controller fails (its own message), when it does. */
  readonly error?: string;
  /** Human steps of the computation, in order. */
  readonly steps: readonly string[];
  readonly usageRatio?: number;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3).replace(/0+$/, "");
}

/**
 * A Pods metric with an AverageValue target (calcPlainMetricReplicas). `values` are milli-units
 * by pod name, as the custom metrics client returns them.
 */
export function podsMetricReplicas(
  pods: readonly PodFacts[],
  values: ReadonlyMap<string, number>,
  targetMilli: number,
  currentReplicas: number,
  tolerance = DEFAULT_TOLERANCE,
): Calculation {
  const steps: string[] = [];
  if (pods.length === 0) {
    return { steps, error: "no pods returned by selector while calculating replica count" };
  }
  // groupPods: deleted and failed pods are ignored, pending ones are unready, a pod without a
  // value is missing. Readiness only matters for the cpu resource, so any other pod with a value
  // counts.
  const ignored = pods.filter((p) => p.deleting || p.phase === "Failed");
  const unready = pods.filter((p) => !ignored.includes(p) && p.phase === "Pending");
  const metrics = new Map<string, number>();
  const missing: string[] = [];
  for (const p of pods) {
    if (ignored.includes(p) || unready.includes(p)) continue;
    const v = values.get(p.name);
    if (v === undefined) missing.push(p.name);
    else metrics.set(p.name, v);
  }
  const readyPodCount = metrics.size;
  steps.push(
    `${String(pods.length)} pod(s): ${String(readyPodCount)} with a value, ${String(missing.length)} missing${missing.length > 0 ? ` (${missing.join(", ")})` : ""}, ${String(unready.length)} Pending, ${String(ignored.length)} ignored (deleted or Failed)`,
  );
  if (metrics.size === 0) {
    return { steps, error: "did not receive metrics for targeted pods (pods might be unready)" };
  }
  const ratio = (m: ReadonlyMap<string, number>) => {
    let sum = 0;
    for (const v of m.values()) sum += v;
    return sum / m.size / targetMilli;
  };
  const usageRatio = ratio(metrics);
  const avg = (usageRatio * targetMilli) / 1000;
  steps.push(
    `average ${fmt(avg)} / target ${fmt(targetMilli / 1000)} = usage ratio ${fmt(usageRatio)}`,
  );
  const scaleUpWithUnready = unready.length > 0 && usageRatio > 1;
  if (!scaleUpWithUnready && missing.length === 0) {
    if (Math.abs(1 - usageRatio) <= tolerance) {
      steps.push(
        `|1 − ${fmt(usageRatio)}| ≤ tolerance ${fmt(tolerance)}: keep ${String(currentReplicas)}`,
      );
      return { steps, replicas: currentReplicas, usageRatio };
    }
    const r = Math.ceil(usageRatio * readyPodCount);
    steps.push(`ceil(${fmt(usageRatio)} × ${String(readyPodCount)} pods) = ${String(r)}`);
    return { steps, replicas: r, usageRatio };
  }
  // Missing pods count as using the target on a scale-down, nothing on a scale-up; on a
  // scale-up, pending pods count as using nothing.
  const filled = new Map(metrics);
  if (usageRatio < 1) for (const name of missing) filled.set(name, targetMilli);
  else if (usageRatio > 1) for (const name of missing) filled.set(name, 0);
  if (scaleUpWithUnready) for (const p of unready) filled.set(p.name, 0);
  const newRatio = ratio(filled);
  steps.push(
    `missing pods counted as ${usageRatio < 1 ? "at the target (scale-down)" : "0 (scale-up)"}${scaleUpWithUnready ? ", Pending pods as 0" : ""}: usage ratio ${fmt(newRatio)}`,
  );
  if (
    Math.abs(1 - newRatio) <= tolerance ||
    (usageRatio < 1 && newRatio > 1) ||
    (usageRatio > 1 && newRatio < 1)
  ) {
    steps.push(`within tolerance or direction reversed: keep ${String(currentReplicas)}`);
    return { steps, replicas: currentReplicas, usageRatio };
  }
  const r = Math.ceil(newRatio * filled.size);
  if ((newRatio < 1 && r > currentReplicas) || (newRatio > 1 && r < currentReplicas)) {
    steps.push(`ceil gives ${String(r)}, against the direction: keep ${String(currentReplicas)}`);
    return { steps, replicas: currentReplicas, usageRatio };
  }
  steps.push(`ceil(${fmt(newRatio)} × ${String(filled.size)} pods) = ${String(r)}`);
  return { steps, replicas: r, usageRatio };
}

/**
 * An Object or External metric. `usageMilli` is the object's value (Object) or the sum of all
 * values (External). With a Value target the ratio scales the ready pods; with AverageValue the
 * usage is divided by the per-pod target.
 */
export function totalMetricReplicas(
  usageMilli: number,
  target: { readonly type: "Value" | "AverageValue"; readonly milli: number },
  readyPods: number,
  currentReplicas: number,
  tolerance = DEFAULT_TOLERANCE,
): Calculation {
  const steps: string[] = [];
  if (target.type === "Value") {
    if (readyPods === 0) {
      return {
        steps,
        error: "unable to calculate ready pods: no ready pods returned by selector",
      };
    }
    const usageRatio = usageMilli / target.milli;
    steps.push(
      `value ${fmt(usageMilli / 1000)} / target ${fmt(target.milli / 1000)} = usage ratio ${fmt(usageRatio)}`,
    );
    if (Math.abs(1 - usageRatio) <= tolerance) {
      steps.push(
        `|1 − ${fmt(usageRatio)}| ≤ tolerance ${fmt(tolerance)}: keep ${String(currentReplicas)}`,
      );
      return { steps, replicas: currentReplicas, usageRatio };
    }
    const r = Math.ceil(usageRatio * readyPods);
    steps.push(`ceil(${fmt(usageRatio)} × ${String(readyPods)} ready pods) = ${String(r)}`);
    return { steps, replicas: r, usageRatio };
  }
  const usageRatio = usageMilli / (target.milli * currentReplicas);
  steps.push(
    `value ${fmt(usageMilli / 1000)} / (target ${fmt(target.milli / 1000)} × ${String(currentReplicas)} replicas) = usage ratio ${fmt(usageRatio)}`,
  );
  if (Math.abs(1 - usageRatio) <= tolerance) {
    steps.push(
      `|1 − ${fmt(usageRatio)}| ≤ tolerance ${fmt(tolerance)}: keep ${String(currentReplicas)}`,
    );
    return { steps, replicas: currentReplicas, usageRatio };
  }
  const r = Math.ceil(usageMilli / target.milli);
  steps.push(`ceil(${fmt(usageMilli / 1000)} / ${fmt(target.milli / 1000)}) = ${String(r)}`);
  return { steps, replicas: r, usageRatio };
}

/** horizontal.go's clamp of the proposal between minReplicas and maxReplicas. */
export function clampReplicas(
  proposal: number,
  min: number,
  max: number,
): { replicas: number; step: string } {
  if (proposal < min)
    return { replicas: min, step: `${String(proposal)} < minReplicas: ${String(min)}` };
  if (proposal > max)
    return { replicas: max, step: `${String(proposal)} > maxReplicas: ${String(max)}` };
  return {
    replicas: proposal,
    step: `${String(proposal)} within ${String(min)}..${String(max)}`,
  };
}
