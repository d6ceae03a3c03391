/**
 * @module auth/retry
 * Retries of TokenReview and SubjectAccessReview calls on transient failures, like
 * k8s.io/apiserver pkg/util/webhook (DefaultRetryBackoff: 500 ms ×1.5, 5 steps, jitter 0.2;
 * DefaultShouldRetry: connection resets, 429, 500, 503, 504).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { KubeApiError } from "../kube/client.ts";

export interface Backoff {
  readonly initialMs: number;
  readonly factor: number;
  readonly jitter: number;
  /** Total attempts; 1 means no retry. */
  readonly steps: number;
}

export const DEFAULT_WEBHOOK_BACKOFF: Backoff = {
  initialMs: 500,
  factor: 1.5,
  jitter: 0.2,
  steps: 5,
};

const TRANSIENT_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT"]);

export function isTransient(e: unknown): boolean {
  if (e instanceof KubeApiError) return [429, 500, 503, 504].includes(e.status);
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && TRANSIENT_CODES.has(code);
}

export async function withRetry<T>(fn: () => Promise<T>, backoff: Backoff): Promise<T> {
  let delay = backoff.initialMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= backoff.steps || !isTransient(e)) throw e;
      await sleep(delay * (1 + Math.random() * backoff.jitter));
      delay *= backoff.factor;
    }
  }
}
