/**
 * @module auth/authorizer
 * Delegated authorization (k8s.io/apiserver pkg/server/options/authorization.go,
 * DelegatingAuthorizationOptions): members of `system:masters` and the always-allow paths pass
 * locally; everything else is asked of the API server with a SubjectAccessReview
 * (plugin/pkg/authorizer/webhook/webhook.go), whose allowed and denied answers are cached.
 * Unlike upstream (which answers 500), a failed review denies, with the error as the reason.
 */
import { alwaysAllowPathMatcher, DEFAULT_ALWAYS_ALLOW_PATHS } from "./always-allow-paths.ts";
import type { PathMatcher } from "./always-allow-paths.ts";
import type { RequestAttributes } from "./request-attributes.ts";
import { DEFAULT_WEBHOOK_BACKOFF, withRetry, type Backoff } from "./retry.ts";
import { TtlCache } from "./ttl-cache.ts";
import type { Clock, KubeJson, UserInfo } from "./types.ts";

export const SUBJECT_ACCESS_REVIEW_PATH = "/apis/authorization.k8s.io/v1/subjectaccessreviews";

export interface AuthorizationDecision {
  readonly allowed: boolean;
  /** Why, for logs; never empty. */
  readonly reason: string;
  /**
   * The reason kube would append to its 403 message: the review's own `status.reason` (often
   * empty), or the error when the review failed.
   */
  readonly statusReason: string;
  readonly decidedBy: "privileged-group" | "always-allow-path" | "review" | "cache" | "error";
}

export interface SubjectAccessReviewSpec {
  user: string;
  groups: string[];
  extra?: Record<string, string[]>;
  uid?: string;
  resourceAttributes?: {
    namespace?: string;
    verb?: string;
    group?: string;
    version?: string;
    resource?: string;
    subresource?: string;
    name?: string;
  };
  nonResourceAttributes?: { path?: string; verb?: string };
}

interface SubjectAccessReviewStatus {
  allowed?: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

export interface DelegatingAuthorizerOptions {
  readonly client: KubeJson;
  /** Groups allowed everything; default [system:masters]. */
  readonly alwaysAllowGroups?: readonly string[] | undefined;
  /** `--authorization-always-allow-paths`, default /healthz,/readyz,/livez. */
  readonly alwaysAllowPaths?: readonly string[] | undefined;
  /** `--authorization-webhook-cache-authorized-ttl`, 10 s by default; 0 turns it off. */
  readonly authorizedTtlMs?: number | undefined;
  /** `--authorization-webhook-cache-unauthorized-ttl`, 10 s by default; 0 turns it off. */
  readonly unauthorizedTtlMs?: number | undefined;
  readonly now?: Clock | undefined;
  readonly backoff?: Backoff | undefined;
}

/** The review spec the webhook authorizer sends: empty fields are omitted, as Go's omitempty. */
export function subjectAccessReviewSpec(
  user: UserInfo,
  attrs: RequestAttributes,
): SubjectAccessReviewSpec {
  const spec: SubjectAccessReviewSpec = { user: user.name, groups: [...user.groups] };
  if (Object.keys(user.extra).length > 0) spec.extra = user.extra;
  if (user.uid) spec.uid = user.uid;
  if (attrs.kind === "resource") {
    const ra: NonNullable<SubjectAccessReviewSpec["resourceAttributes"]> = {};
    if (attrs.namespace) ra.namespace = attrs.namespace;
    if (attrs.verb) ra.verb = attrs.verb;
    if (attrs.group) ra.group = attrs.group;
    if (attrs.version) ra.version = attrs.version;
    if (attrs.resource) ra.resource = attrs.resource;
    if (attrs.subresource) ra.subresource = attrs.subresource;
    if (attrs.name) ra.name = attrs.name;
    spec.resourceAttributes = ra;
  } else {
    spec.nonResourceAttributes = { path: attrs.path, verb: attrs.verb };
  }
  return spec;
}

function describe(user: UserInfo, attrs: RequestAttributes): string {
  if (attrs.kind === "nonResource") return `${user.name} ${attrs.verb} ${attrs.path}`;
  const res = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  return `${user.name} ${attrs.verb} ${res}${attrs.group ? `.${attrs.group}` : ""}${attrs.name ? ` ${JSON.stringify(attrs.name)}` : ""}${attrs.namespace ? ` in ${attrs.namespace}` : ""}`;
}

export class DelegatingAuthorizer {
  readonly #o: DelegatingAuthorizerOptions;
  readonly #groups: ReadonlySet<string>;
  readonly #paths: PathMatcher;
  readonly #cache: TtlCache<SubjectAccessReviewStatus>;
  readonly #inFlight = new Map<string, Promise<SubjectAccessReviewStatus>>();
  #reviews = 0;

  /** Throws Error on a malformed always-allow path. */
  constructor(o: DelegatingAuthorizerOptions) {
    this.#o = o;
    this.#groups = new Set(o.alwaysAllowGroups ?? ["system:masters"]);
    this.#paths = alwaysAllowPathMatcher(o.alwaysAllowPaths ?? DEFAULT_ALWAYS_ALLOW_PATHS);
    this.#cache = new TtlCache<SubjectAccessReviewStatus>(8192, o.now ?? Date.now);
  }

  /** How many SubjectAccessReviews were sent (cache misses), for tests and metrics. */
  get reviewsSent(): number {
    return this.#reviews;
  }

  async authorize(user: UserInfo, attrs: RequestAttributes): Promise<AuthorizationDecision> {
    const privileged = user.groups.find((g) => this.#groups.has(g));
    if (privileged !== undefined) {
      return {
        allowed: true,
        reason: `member of ${privileged}`,
        statusReason: "",
        decidedBy: "privileged-group",
      };
    }
    if (this.#paths(attrs)) {
      return {
        allowed: true,
        reason: `${attrs.path} is an always-allowed path`,
        statusReason: "",
        decidedBy: "always-allow-path",
      };
    }
    const spec = subjectAccessReviewSpec(user, attrs);
    const key = JSON.stringify(spec);
    const cached = this.#cache.get(key);
    if (cached) return decision(cached, user, attrs, "cache");

    let status: SubjectAccessReviewStatus;
    try {
      status = await this.#review(key, spec);
    } catch (e) {
      const msg = `SubjectAccessReview failed: ${(e as Error).message}`;
      return { allowed: false, reason: msg, statusReason: msg, decidedBy: "error" };
    }
    return decision(status, user, attrs, "review");
  }

  /**
   * One SubjectAccessReview per distinct question at a time: a burst of identical requests (HPAs
   * of one namespace asking for the same metric at their common resync) waits for the first
   * one's answer instead of each sending its own. The answer is then cached for its TTL.
   */
  #review(key: string, spec: SubjectAccessReviewSpec): Promise<SubjectAccessReviewStatus> {
    const pending = this.#inFlight.get(key);
    if (pending) return pending;
    const p = this.#send(spec)
      .then((status) => {
        const ttl = isAllowed(status)
          ? (this.#o.authorizedTtlMs ?? 10_000)
          : (this.#o.unauthorizedTtlMs ?? 10_000);
        this.#cache.set(key, status, ttl);
        return status;
      })
      .finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, p);
    return p;
  }

  async #send(spec: SubjectAccessReviewSpec): Promise<SubjectAccessReviewStatus> {
    this.#reviews++;
    const body = { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec };
    const res = await withRetry(
      () =>
        this.#o.client.json<{ status?: SubjectAccessReviewStatus }>(
          "POST",
          SUBJECT_ACCESS_REVIEW_PATH,
          body,
        ),
      this.#o.backoff ?? DEFAULT_WEBHOOK_BACKOFF,
    );
    return res.status ?? {};
  }
}

/** webhook.go: an answer that is both allowed and denied is a denial. */
function isAllowed(s: SubjectAccessReviewStatus): boolean {
  return s.allowed === true && s.denied !== true;
}

function decision(
  s: SubjectAccessReviewStatus,
  user: UserInfo,
  attrs: RequestAttributes,
  decidedBy: "review" | "cache",
): AuthorizationDecision {
  const statusReason = s.reason ?? "";
  const allowed = isAllowed(s);
  let reason = statusReason;
  if (reason === "") {
    reason = allowed
      ? `SubjectAccessReview allowed ${describe(user, attrs)}`
      : `SubjectAccessReview ${s.denied === true ? "denied" : "did not allow"} ${describe(user, attrs)}`;
  }
  if (s.evaluationError) reason += ` (evaluation error: ${s.evaluationError})`;
  return { allowed, reason, statusReason, decidedBy };
}
