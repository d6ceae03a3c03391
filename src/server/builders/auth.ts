/**
 * @module server/builders/auth
 * Delegated authentication and authorization as the generic apiserver wires them: TokenReview and
 * the auth ConfigMap through `--authentication-kubeconfig`, SubjectAccessReview through
 * `--authorization-kubeconfig` (each falling back to `--lister-kubeconfig`, then in-cluster).
 */
import { DelegatedAuth } from "../../auth/delegated-auth.ts";
import { isKcmError, KcmError } from "../../errors.ts";
import { KubeClient } from "../../kube/client.ts";
import type { Logger } from "../../observability/logger.ts";
import type { AuthenticationConfig } from "../options/authentication.ts";
import type { AuthorizationConfig } from "../options/authorization.ts";

export async function buildDelegatedAuth(
  authn: AuthenticationConfig,
  authz: AuthorizationConfig,
  log: Logger,
): Promise<DelegatedAuth> {
  const authenticationClient = new KubeClient({ kubeconfig: authn.kubeconfig });
  const authorizationClient = new KubeClient({ kubeconfig: authz.kubeconfig });
  try {
    return await DelegatedAuth.create({
      authenticationClient,
      authorizationClient,
      authentication: authn.options,
      tokenCacheTtlMs: authn.tokenCacheTtlMs,
      alwaysAllowPaths: authz.alwaysAllowPaths,
      authorizedTtlMs: authz.authorizedTtlMs,
      unauthorizedTtlMs: authz.unauthorizedTtlMs,
      log,
    });
  } catch (e) {
    // The ConfigMap unreadable (RBAC), a CA file missing or broken: one line, with a code.
    if (isKcmError(e)) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new KcmError("KCM_ERR_AUTH_CONFIG", message, { cause: e });
  }
}
