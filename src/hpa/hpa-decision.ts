/**
 * @module hpa/hpa-decision
 * The HPA's replicas from all its metrics' proposals, before stabilization and rate limits: the
 * min/max handling of horizontal.go. A leaf: it imports nothing.
 */

/**
 * The HPA's decision from its metrics' proposals before stabilization and rate limits
 * (horizontal.go reconcileAutoscaler): a target at 0 replicas with min > 0 is not scaled;
 * outside [min, max] the current count is brought in; otherwise the largest proposal, clamped
 * (the controller's scale-up limit and behavior policies are left out). `step` says which.
 */
export function hpaDecision(o: {
  readonly current: number;
  readonly min: number;
  readonly max: number;
  readonly proposals: readonly number[];
  /** Whether some metric gave no proposal (an error). */
  readonly failed: boolean;
}): { replicas: number; step: string } {
  const cur = String(o.current);
  if (o.current === 0 && o.min !== 0) {
    return { replicas: 0, step: `0 replicas with minReplicas ${String(o.min)}: scaling disabled` };
  }
  if (o.current > o.max) {
    return { replicas: o.max, step: `current ${cur} > maxReplicas: ${String(o.max)}` };
  }
  if (o.current < o.min) {
    return { replicas: o.min, step: `current ${cur} < minReplicas: ${String(o.min)}` };
  }
  if (o.proposals.length === 0) return { replicas: o.current, step: `no proposal: keep ${cur}` };
  const best = Math.max(...o.proposals);
  // One metric failed and the others would scale down: nothing is scaled.
  if (o.failed && best < o.current) {
    return { replicas: o.current, step: `a metric failed, no scale-down: keep ${cur}` };
  }
  const b = String(best);
  if (best < o.min) return { replicas: o.min, step: `${b} < minReplicas: ${String(o.min)}` };
  if (best > o.max) return { replicas: o.max, step: `${b} > maxReplicas: ${String(o.max)}` };
  return { replicas: best, step: `${b} within ${String(o.min)}..${String(o.max)}` };
}

/** hpaDecision's count alone. */
export function hpaReplicas(o: Parameters<typeof hpaDecision>[0]): number {
  return hpaDecision(o).replicas;
}
