/**
 * @module auth/authenticator
 * The delegating authenticator: front-proxy headers, then client certificate, then bearer token,
 * first success wins (k8s.io/apiserver pkg/authentication/request/union/union.go, order from
 * pkg/authentication/authenticatorfactory/delegating.go). Identity headers are read only inside
 * the front-proxy authenticator, after its certificate checks passed, so forged X-Remote-User
 * headers never authenticate. Every user gets `system:authenticated`
 * (pkg/authentication/group/authenticated_group_adder.go). Anonymous access is off by default.
 */
import type { DynamicAuthenticationConfig } from "./authentication-config.ts";
import { authenticateRequestHeader } from "./request-header-authenticator.ts";
import type { TokenReviewAuthenticator } from "./token-review-authenticator.ts";
import type { AuthRequest, AuthenticatorAttempt, Clock, UserInfo } from "./types.ts";
import { authenticateX509 } from "./x509-authenticator.ts";

export const ANONYMOUS_USER = "system:anonymous";
export const ALL_AUTHENTICATED = "system:authenticated";
export const ALL_UNAUTHENTICATED = "system:unauthenticated";

export type AuthenticationMethod = "requestheader" | "x509" | "token" | "anonymous";

export type AuthenticationResult =
  | { readonly kind: "user"; readonly user: UserInfo; readonly method: AuthenticationMethod }
  | { readonly kind: "unauthenticated"; readonly reason: string };

export interface DelegatingAuthenticatorOptions {
  readonly config: Pick<DynamicAuthenticationConfig, "current">;
  /** Undefined turns bearer-token authentication off. */
  readonly tokenReview?: Pick<TokenReviewAuthenticator, "authenticate"> | undefined;
  /** Let requests without credentials in as system:anonymous. Off by default (upstream: on). */
  readonly anonymous?: boolean | undefined;
  readonly now?: Clock | undefined;
}

/** AuthenticatedGroupAdder: skip anonymous and users that already carry an all-group. */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.name === ANONYMOUS_USER) return user;
  if (user.groups.some((g) => g === ALL_AUTHENTICATED || g === ALL_UNAUTHENTICATED)) return user;
  return { ...user, groups: [...user.groups, ALL_AUTHENTICATED] };
}

function userResult(user: UserInfo, method: AuthenticationMethod): AuthenticationResult {
  return { kind: "user", user: withAuthenticatedGroup(user), method };
}

/** Keeps why an authenticator did not authenticate, for the union's reason. */
function unsuccessful(
  attempt: Exclude<AuthenticatorAttempt, { kind: "user" }>,
  errors: string[],
  notes: string[],
): void {
  if (attempt.kind === "error") errors.push(attempt.reason);
  else if (attempt.note !== undefined) notes.push(attempt.note);
}

export class DelegatingAuthenticator {
  readonly #o: DelegatingAuthenticatorOptions;

  constructor(o: DelegatingAuthenticatorOptions) {
    this.#o = o;
  }

  async authenticate(req: AuthRequest): Promise<AuthenticationResult> {
    const cfg = this.#o.config.current();
    const now = (this.#o.now ?? Date.now)();
    const errors: string[] = [];
    const notes: string[] = [];
    // The certificate authenticators answer at once: only a TokenReview is awaited, so a request
    // the front proxy vouches for costs no promise turn here.
    const header = authenticateRequestHeader(req, cfg.requestHeader, now);
    if (header.kind === "user") return userResult(header.user, "requestheader");
    unsuccessful(header, errors, notes);
    const x509 = authenticateX509(req, cfg.clientCa, now);
    if (x509.kind === "user") return userResult(x509.user, "x509");
    unsuccessful(x509, errors, notes);
    const tokenReview = this.#o.tokenReview;
    if (tokenReview) {
      const token = await tokenReview.authenticate(req.headers);
      if (token.kind === "user") return userResult(token.user, "token");
      unsuccessful(token, errors, notes);
    }
    // unionauth.NewFailOnError: a credential that failed is not downgraded to anonymous.
    if (this.#o.anonymous === true && errors.length === 0) {
      return {
        kind: "user",
        user: { name: ANONYMOUS_USER, groups: [ALL_UNAUTHENTICATED], extra: {} },
        method: "anonymous",
      };
    }
    return {
      kind: "unauthenticated",
      reason:
        errors.length + notes.length > 0
          ? [...errors, ...notes].join("; ")
          : "no credentials: no accepted client certificate and no bearer token",
    };
  }
}
