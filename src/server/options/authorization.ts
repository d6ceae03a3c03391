/**
 * @module server/options/authorization
 * Delegated authorization, the generic apiserver's DelegatingAuthorizationOptions: the
 * kubeconfig for SubjectAccessReview, paths open without one, and the review caches.
 */
import { Option } from "@commander-js/extra-typings";
import { alwaysAllowPathMatcher } from "../../auth/always-allow-paths.ts";
import { KcmError } from "../../errors.ts";
import { bool, duration, list } from "./parsers.ts";

export const authorizationFlags = {
  kubeconfig: () =>
    new Option(
      "--authorization-kubeconfig <file>",
      "kubeconfig for SubjectAccessReview (default: --lister-kubeconfig, else in-cluster)",
    ),
  alwaysAllowPaths: () =>
    new Option("--authorization-always-allow-paths <list>", "paths allowed without authorization")
      .default(["/healthz", "/readyz", "/livez"])
      .argParser(list),
  authorizedTtl: () =>
    new Option(
      "--authorization-webhook-cache-authorized-ttl <duration>",
      "how long allowed answers are cached",
    )
      .argParser(duration)
      .default(10_000, "10s"),
  unauthorizedTtl: () =>
    new Option(
      "--authorization-webhook-cache-unauthorized-ttl <duration>",
      "how long denied answers are cached",
    )
      .argParser(duration)
      .default(10_000, "10s"),
  refreshAhead: () =>
    new Option(
      "--authorization-webhook-cache-refresh-ahead [bool]",
      "ours: ask again, in the background, for cached answers still in use shortly before they expire (each answer is still used at most its TTL); --authorization-webhook-cache-refresh-ahead=false: only on a miss",
    )
      .argParser(bool)
      .default(true),
};

export interface AuthorizationFlagValues {
  readonly authorizationKubeconfig?: string | undefined;
  readonly authorizationAlwaysAllowPaths: readonly string[];
  readonly authorizationWebhookCacheAuthorizedTtl: number;
  readonly authorizationWebhookCacheUnauthorizedTtl: number;
  /** Absent where `serve` does not declare the flag: on. */
  readonly authorizationWebhookCacheRefreshAhead?: boolean | undefined;
  /** Shared with the kube group: the fallback kubeconfig. */
  readonly listerKubeconfig?: string | undefined;
}

export interface AuthorizationConfig {
  /** For SubjectAccessReview; undefined: in-cluster. */
  readonly kubeconfig: string | undefined;
  readonly alwaysAllowPaths: readonly string[];
  readonly authorizedTtlMs: number;
  readonly unauthorizedTtlMs: number;
  /** Refresh cached answers in use before they expire (auth/authorizer). */
  readonly refreshAhead: boolean;
}

/**
 * A path pattern with a `*` before its end is refused, as path.NewAuthorizer does (k8s.io/apiserver
 * pkg/authorization/path). Only checked when authorization is in use (HTTPS): the plain-HTTP port
 * for local testing never reads these flags.
 */
export function validateAuthorization(
  v: AuthorizationFlagValues,
  inUse: boolean,
): AuthorizationConfig {
  if (inUse) {
    try {
      alwaysAllowPathMatcher(v.authorizationAlwaysAllowPaths);
    } catch (e) {
      throw new KcmError(
        "KCM_ERR_USAGE",
        `--authorization-always-allow-paths: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  return {
    kubeconfig: v.authorizationKubeconfig ?? v.listerKubeconfig,
    alwaysAllowPaths: v.authorizationAlwaysAllowPaths,
    authorizedTtlMs: v.authorizationWebhookCacheAuthorizedTtl,
    unauthorizedTtlMs: v.authorizationWebhookCacheUnauthorizedTtl,
    refreshAhead: v.authorizationWebhookCacheRefreshAhead ?? true,
  };
}
