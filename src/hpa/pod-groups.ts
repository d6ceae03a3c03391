/**
 * @module hpa/pod-groups
 * What the HPA controller knows of a pod and its sample, and how it sorts pods before computing
 * (replica_calculator.go groupPods): ignored (deleting, Failed), unready (Pending; the CPU
 * warm-up rules), missing (no sample), ready.
 */

/** --horizontal-pod-autoscaler-cpu-initialization-period and -initial-readiness-delay defaults. */
const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
const INITIAL_READINESS_DELAY_MS = 30_000;

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
  /** Only the CPU warm-up rules read the sample's time and window. */
  readonly timestampMs: number;
  readonly windowMs: number;
}

export interface Groups {
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
    // Readiness only matters for the cpu resource: any other pod with a value counts.
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
