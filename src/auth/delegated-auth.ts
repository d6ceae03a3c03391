/**
 * @module auth/delegated-auth
 * Kubernetes-style delegated authentication and authorization for an aggregated API server, in
 * one object. The API of src/auth (there is no index.ts):
 *
 * - {@link DelegatedAuth.create}`(options)` → reads the auth ConfigMap (unless skipped), builds
 *   the authenticators and the authorizer; `.authenticateAndAuthorize(req)` is the whole filter
 *   chain for one request; `.close()` stops the ConfigMap refresh and the authorizer's refresh.
 * - auth/types: `UserInfo`, `AuthRequest` (headers, peer certificates, method, parsed target).
 * - auth/headers: `headersFromRaw(rawHeaders)` keeps repeated headers apart.
 * - auth/peer-certificates: `peerCertificates(tlsSocket)` → the client chain, leaf first.
 * - auth/authentication-config: `DynamicAuthenticationConfig.start({options, client})`,
 *   `.current()`, `.onChange(cb)`; `parseAuthenticationConfigMap`, `resolveAuthenticationConfig`.
 * - auth/authenticator: `DelegatingAuthenticator.authenticate(req)` →
 *   `{kind:"user", user, method} | {kind:"unauthenticated", reason}`.
 * - auth/request-attributes: `requestAttributes(method, target)` (RequestInfo).
 * - auth/authorizer: `DelegatingAuthorizer.authorize(user, attrs)` → `{allowed, reason, …}`.
 * - here: `forbiddenMessage(user, attrs)` and the exact 401/403 Status bodies.
 *
 * @example
 * const auth = await DelegatedAuth.create({
 *   authenticationClient: new KubeClient({ kubeconfig: authenticationKubeconfig }),
 *   authorizationClient: new KubeClient({ kubeconfig: authorizationKubeconfig }),
 * });
 * const r = await auth.authenticateAndAuthorize({
 *   headers: headersFromRaw(req.rawHeaders), peerCertificates: peerCertificates(req.socket),
 *   method: req.method, target: parseRequestTarget(req.url),
 * });
 * if (!r.ok) return send(res, r.status, r.body);
 */
import { goQuote } from "../apimachinery/go-quote.ts";
import {
  forbidden,
  internalError,
  tooManyRequests,
  unauthorized,
  type Status,
} from "../apimachinery/status.ts";
import type { Logger } from "../observability/logger.ts";
import {
  DynamicAuthenticationConfig,
  type DelegatingAuthenticationOptions,
} from "./authentication-config.ts";
import { DelegatingAuthenticator, type AuthenticationMethod } from "./authenticator.ts";
import { DelegatingAuthorizer, type AuthorizationDecision } from "./authorizer.ts";
import {
  requestAttributes,
  RequestInfoError,
  type RequestAttributes,
} from "./request-attributes.ts";
import type { Backoff } from "./retry.ts";
import type { ReviewCounter } from "./review-counter.ts";
import { TokenReviewAuthenticator } from "./token-review-authenticator.ts";
import type { AuthRequest, Clock, KubeJson, UserInfo } from "./types.ts";

export interface DelegatedAuthOptions {
  /**
   * For TokenReview and the auth ConfigMap (`--authentication-kubeconfig`), as the generic
   * apiserver's DelegatingAuthenticationOptions.
   */
  readonly authenticationClient: KubeJson;
  /** For SubjectAccessReview (`--authorization-kubeconfig`): DelegatingAuthorizationOptions. */
  readonly authorizationClient: KubeJson;
  readonly authentication?: DelegatingAuthenticationOptions | undefined;
  /** `--authentication-token-webhook-cache-ttl`, default 10 s. */
  readonly tokenCacheTtlMs?: number | undefined;
  /** Let credential-less requests in as system:anonymous; default false. */
  readonly anonymous?: boolean | undefined;
  /** `--authorization-always-allow-paths`. */
  readonly alwaysAllowPaths?: readonly string[] | undefined;
  readonly alwaysAllowGroups?: readonly string[] | undefined;
  /** `--authorization-webhook-cache-authorized-ttl`, default 10 s. */
  readonly authorizedTtlMs?: number | undefined;
  /** `--authorization-webhook-cache-unauthorized-ttl`, default 10 s. */
  readonly unauthorizedTtlMs?: number | undefined;
  /**
   * Refresh cached authorization answers in use before they expire (auth/authorizer); default
   * true.
   */
  readonly authorizationRefreshAhead?: boolean | undefined;
  /** Counts SubjectAccessReviews sent; default the authorizer's own. */
  readonly subjectAccessReviews?: ReviewCounter | undefined;
  /** Counts TokenReviews sent; default the authenticator's own. */
  readonly tokenReviews?: ReviewCounter | undefined;
  /** ConfigMap re-read period, default 30 s. */
  readonly configRefreshMs?: number | undefined;
  readonly log?: Logger | undefined;
  readonly now?: Clock | undefined;
  readonly backoff?: Backoff | undefined;
}

/**
 * The 429 outcome's body, built once: refusals come hundreds at a time in a burst, and the caller
 * answers them in plain text (server/max-in-flight) without sending it.
 */
const TOO_MANY: Status = tooManyRequests("too many requests in flight");

export type AuthOutcome =
  | {
      readonly ok: true;
      readonly user: UserInfo;
      readonly attributes: RequestAttributes;
      readonly method: AuthenticationMethod;
      readonly decision: AuthorizationDecision;
    }
  | {
      readonly ok: false;
      /**
       * 401/403 as kube; 429 when `admit` turned the request away (the caller writes that answer
       * as server/max-in-flight does); 400/500 only for a path RequestInfo cannot parse.
       */
      readonly status: 400 | 401 | 403 | 429 | 500;
      readonly body: Status;
      /** Why, for logs (not sent to the client). */
      readonly reason: string;
      readonly user?: UserInfo;
      readonly attributes?: RequestAttributes;
    };

/**
 * responsewriters.forbiddenMessage (k8s.io/apiserver pkg/endpoints/handlers/responsewriters/
 * errors.go).
 */
export function forbiddenMessage(user: UserInfo, attrs: RequestAttributes): string {
  const who = goQuote(user.name);
  if (attrs.kind === "nonResource") {
    return `User ${who} cannot ${attrs.verb} path ${goQuote(attrs.path)}`;
  }
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const what = `User ${who} cannot ${attrs.verb} resource ${goQuote(resource)} in API group ${goQuote(attrs.group)}`;
  return attrs.namespace
    ? `${what} in the namespace ${goQuote(attrs.namespace)}`
    : `${what} at the cluster scope`;
}

/** responsewriters.Forbidden: NewForbidden(group/resource, name, message[: reason]). */
export function forbiddenStatus(user: UserInfo, attrs: RequestAttributes, reason: string): Status {
  const msg = forbiddenMessage(user, attrs);
  const cause = reason === "" ? msg : `${msg}: ${reason}`;
  return attrs.kind === "resource"
    ? forbidden({ group: attrs.group, resource: attrs.resource }, attrs.name, cause)
    : forbidden({ group: "", resource: "" }, "", cause);
}

/** The body kube's authentication filter sends on 401. */
export function unauthorizedStatus(): Status {
  return unauthorized("Unauthorized");
}

export class DelegatedAuth {
  readonly config: DynamicAuthenticationConfig;
  readonly authenticator: DelegatingAuthenticator;
  readonly authorizer: DelegatingAuthorizer;

  constructor(
    config: DynamicAuthenticationConfig,
    authenticator: DelegatingAuthenticator,
    authorizer: DelegatingAuthorizer,
  ) {
    this.config = config;
    this.authenticator = authenticator;
    this.authorizer = authorizer;
  }

  /** Reads the auth config (see auth/authentication-config for the lookup rules) and wires up. */
  static async create(o: DelegatedAuthOptions): Promise<DelegatedAuth> {
    const config = await DynamicAuthenticationConfig.start({
      options: o.authentication ?? {},
      client: o.authenticationClient,
      refreshIntervalMs: o.configRefreshMs ?? 30_000,
      log: o.log,
    });
    const tokenReview = new TokenReviewAuthenticator({
      client: o.authenticationClient,
      cacheTtlMs: o.tokenCacheTtlMs,
      counter: o.tokenReviews,
      now: o.now,
      backoff: o.backoff,
    });
    const authenticator = new DelegatingAuthenticator({
      config,
      tokenReview,
      anonymous: o.anonymous === true,
      now: o.now,
    });
    const authorizer = new DelegatingAuthorizer({
      client: o.authorizationClient,
      alwaysAllowGroups: o.alwaysAllowGroups,
      alwaysAllowPaths: o.alwaysAllowPaths,
      authorizedTtlMs: o.authorizedTtlMs,
      unauthorizedTtlMs: o.unauthorizedTtlMs,
      refreshAhead: o.authorizationRefreshAhead,
      counter: o.subjectAccessReviews,
      now: o.now,
      backoff: o.backoff,
    });
    return new DelegatedAuth(config, authenticator, authorizer);
  }

  /**
   * kube's filter order: RequestInfo, authentication (401), `admit` (the in-flight limit, 429:
   * k8s.io/apiserver pkg/server/config.go DefaultBuildHandlerChain runs WithMaxInFlightLimit
   * after authentication and before authorization), authorization (403). Never throws.
   */
  async authenticateAndAuthorize(
    req: AuthRequest,
    admit?: (user: UserInfo) => boolean,
  ): Promise<AuthOutcome> {
    let attributes: RequestAttributes;
    try {
      attributes = requestAttributes(req.method, req.target);
    } catch (e) {
      if (!(e instanceof RequestInfoError)) throw e;
      const body = internalError(`failed to create RequestInfo: ${e.message}`);
      return { ok: false, status: e.status, body, reason: e.message };
    }
    const authn = await this.authenticator.authenticate(req);
    if (authn.kind === "unauthenticated") {
      return {
        ok: false,
        status: 401,
        body: unauthorizedStatus(),
        reason: authn.reason,
        attributes,
      };
    }
    if (admit && !admit(authn.user)) {
      return { ok: false, status: 429, body: TOO_MANY, reason: TOO_MANY.message, user: authn.user };
    }
    const decision = await this.authorizer.authorize(authn.user, attributes);
    if (!decision.allowed) {
      return {
        ok: false,
        status: 403,
        body: forbiddenStatus(authn.user, attributes, decision.statusReason),
        reason: decision.reason,
        user: authn.user,
        attributes,
      };
    }
    return { ok: true, user: authn.user, attributes, method: authn.method, decision };
  }

  /** Stops the ConfigMap refresh and the authorizer's refresh timer. */
  close(): void {
    this.config.stop();
    this.authorizer.close();
  }
}
