/**
 * @module harness/crash-backoff
 * When to restart a component of the local cluster that exited: the kubelet's CrashLoopBackOff,
 * scaled down for a development harness.
 */

export interface BackoffPolicy {
  /** The wait before the second restart in a row; it doubles with every further exit. */
  readonly initialMs: number;
  readonly maxMs: number;
  /** An exit this long after the previous one is a fresh start: restart at once, as the first. */
  readonly resetAfterMs: number;
}

/**
 * The kubelet's values: `containerBackOffPeriod = 10 * time.Second` (pkg/kubelet/kubelet.go),
 * `MaxContainerBackOff = 300 * time.Second` (pkg/kubelet/apis/config/v1beta1/defaults.go), and
 * client-go's flowcontrol.Backoff forgets an entry once no exit came for `maxDuration*2`
 * (`hasExpired`), i.e. 10 minutes.
 */
export const KUBELET_BACKOFF: BackoffPolicy = {
  initialMs: 10_000,
  maxMs: 300_000,
  resetAfterMs: 600_000,
};

/**
 * The harness's: a tenth of the kubelet's. A developer who fixes what crashed should see it back
 * within seconds, not minutes, and a component that cannot start still costs at most one start
 * every 30 s on a small machine.
 */
export const HARNESS_BACKOFF: BackoffPolicy = {
  initialMs: 1_000,
  maxMs: 30_000,
  resetAfterMs: 60_000,
};

/** What is remembered between exits (flowcontrol's backoffEntry). */
export interface BackoffEntry {
  /** The wait the next exit gets. */
  readonly delayMs: number;
  readonly lastExitAt: number;
}

/**
 * The wait before restarting after an exit at `exitAt`, and what to remember for the next one.
 * As kuberuntime's doBackOff with flowcontrol.Backoff: the first exit (or the first after a quiet
 * `resetAfterMs`) restarts at once and arms `initialMs`; each exit after that waits the armed
 * delay and doubles it, up to `maxMs`.
 */
export function crashBackoff(
  prev: BackoffEntry | undefined,
  exitAt: number,
  policy: BackoffPolicy,
): { waitMs: number; next: BackoffEntry } {
  if (prev === undefined || exitAt - prev.lastExitAt > policy.resetAfterMs) {
    return { waitMs: 0, next: { delayMs: policy.initialMs, lastExitAt: exitAt } };
  }
  const waitMs = Math.min(prev.delayMs, policy.maxMs);
  return {
    waitMs,
    next: { delayMs: Math.min(waitMs * 2, policy.maxMs), lastExitAt: exitAt },
  };
}
