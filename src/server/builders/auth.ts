/**
 * @module server/builders/auth
 * Delegated authentication and authorization as the generic apiserver wires them: TokenReview and
 * the auth ConfigMap through `--authentication-kubeconfig`, SubjectAccessReview through
 * `--authorization-kubeconfig` (each falling back to `--lister-kubeconfig`, then in-cluster).
 * Given the adapter's metrics registry, it counts the reviews sent there.
 */
import { Counter, type Registry } from "prom-client";
import { DelegatedAuth } from "../../auth/delegated-auth.ts";
import { REVIEW_TRIGGERS, ReviewCounter } from "../../auth/review-counter.ts";
import { isKcmError, KcmError } from "../../errors.ts";
import { KubeClient } from "../../kube/client.ts";
import type { Logger } from "../../observability/logger.ts";
import type { AuthenticationConfig } from "../options/authentication.ts";
import type { AuthorizationConfig } from "../options/authorization.ts";

/**
 * `k8s_custom_metrics_subject_access_reviews_total{trigger}` and
 * `k8s_custom_metrics_token_reviews_total{trigger}` on `registry`, read from the counters when
 * scraped (as the data-option answers in observability/metrics.ts). `trigger`: `request` (a
 * request waited for the review) or `refresh` (the authorizer's refresh ahead; no request waited).
 */
export function registerReviewCounters(
  registry: Registry,
  counters: { readonly subjectAccessReviews: ReviewCounter; readonly tokenReviews: ReviewCounter },
): void {
  const expose = (name: string, help: string, counter: ReviewCounter) =>
    new Counter({
      name,
      help,
      labelNames: ["trigger"] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const trigger of REVIEW_TRIGGERS) this.inc({ trigger }, counter.get(trigger));
      },
    });
  expose(
    "k8s_custom_metrics_subject_access_reviews_total",
    "SubjectAccessReviews sent to the API server, by trigger: request (a request found no live cached answer and waited) or refresh (an answer in use asked again before it expired, --authorization-webhook-cache-refresh-ahead).",
    counters.subjectAccessReviews,
  );
  expose(
    "k8s_custom_metrics_token_reviews_total",
    "TokenReviews sent to the API server, by trigger (always request: token answers are not refreshed ahead).",
    counters.tokenReviews,
  );
}

export async function buildDelegatedAuth(
  authn: AuthenticationConfig,
  authz: AuthorizationConfig,
  log: Logger,
  registry?: Registry,
): Promise<DelegatedAuth> {
  const authenticationClient = new KubeClient({ kubeconfig: authn.kubeconfig });
  const authorizationClient = new KubeClient({ kubeconfig: authz.kubeconfig });
  const subjectAccessReviews = new ReviewCounter();
  const tokenReviews = new ReviewCounter();
  if (registry !== undefined)
    registerReviewCounters(registry, { subjectAccessReviews, tokenReviews });
  try {
    return await DelegatedAuth.create({
      authenticationClient,
      authorizationClient,
      authentication: authn.options,
      tokenCacheTtlMs: authn.tokenCacheTtlMs,
      alwaysAllowPaths: authz.alwaysAllowPaths,
      authorizedTtlMs: authz.authorizedTtlMs,
      unauthorizedTtlMs: authz.unauthorizedTtlMs,
      authorizationRefreshAhead: authz.refreshAhead,
      subjectAccessReviews,
      tokenReviews,
      log,
    });
  } catch (e) {
    // The ConfigMap unreadable (RBAC), a CA file missing or broken: one line, with a code.
    if (isKcmError(e)) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new KcmError("KCM_ERR_AUTH_CONFIG", message, { cause: e });
  }
}
