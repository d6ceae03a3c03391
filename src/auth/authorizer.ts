/**
 * @module auth/authorizer
 * Delegated authorization (k8s.io/apiserver pkg/server/options/authorization.go,
 * DelegatingAuthorizationOptions): members of `system:masters` and the always-allow paths pass
 * locally; everything else is asked of the API server with a SubjectAccessReview
 * (plugin/pkg/authorizer/webhook/webhook.go), whose allowed and denied answers are cached.
 * Unlike upstream (which answers 500), a failed review denies, with the error as the reason.
 *
 * Refresh ahead (ours; on by default): an answer still being asked for is asked again in the
 * background shortly before its next expected use (auth/ttl-cache.ts times it by the question's
 * period of use), so a caller on a period longer than the TTL (the HPA controller's 15 s resync
 * against the 10 s default) finds a live answer instead of waiting for a review, for one review
 * per period as without it. An answer is never used longer than its TTL after it arrived, exactly as in the webhook
 * authorizer's cache (plugin/pkg/authorizer/webhook: an LRUExpireCache entry added when the
 * review returns, served until its TTL is over): a refresh stores a new answer with a new TTL, and
 * an entry whose refresh has not come back by its expiry expires, the next request waiting for
 * that refresh. So a revoked permission stops being granted within the TTL, as in Kubernetes.
 */
import { alwaysAllowPathMatcher, DEFAULT_ALWAYS_ALLOW_PATHS } from "./always-allow-paths.ts";
import type { PathMatcher } from "./always-allow-paths.ts";
import type { RequestAttributes } from "./request-attributes.ts";
import { DEFAULT_WEBHOOK_BACKOFF, withRetry, type Backoff } from "./retry.ts";
import { ReviewCounter, type ReviewTrigger } from "./review-counter.ts";
import { TtlCache, type RefreshPolicy } from "./ttl-cache.ts";
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
  /**
   * Refresh answers in use before they expire (see the module comment); default true. An answer
   * is in use when it was asked for within the last {@link REFRESH_IDLE_TTLS} TTLs; it is asked
   * again once it has less than {@link refreshLeadMs} left.
   */
  readonly refreshAhead?: boolean | undefined;
  /** At most this many refreshes at once; default 4. */
  readonly refreshConcurrency?: number | undefined;
  /**
   * How often due entries are looked for, in ms. Default: half the shorter TTL's lead, at most
   * 1 s; with an injected `now`, 0. 0: no timer (call {@link DelegatingAuthorizer.refreshDue}).
   */
  readonly refreshIntervalMs?: number | undefined;
  /** Counts the reviews sent; default a counter of its own ({@link DelegatingAuthorizer.reviews}). */
  readonly counter?: ReviewCounter | undefined;
  readonly now?: Clock | undefined;
  readonly backoff?: Backoff | undefined;
}

/** An answer asked for within this many of its TTLs is refreshed before it expires. */
export const REFRESH_IDLE_TTLS = 2;

/** How long before its expiry an answer is refreshed: a fifth of its TTL, at most 2 s. */
export function refreshLeadMs(ttlMs: number): number {
  return Math.min(ttlMs / 5, 2_000);
}

const REFRESH_POLICY: RefreshPolicy = {
  leadMs: refreshLeadMs,
  idleMs: (ttlMs) => REFRESH_IDLE_TTLS * ttlMs,
};

/** The default period of the refresh timer: half the lead of the shorter TTL, 10 ms to 1 s. */
export function defaultRefreshIntervalMs(ttlsMs: readonly number[]): number {
  const live = ttlsMs.filter((t) => t > 0);
  if (live.length === 0) return 0;
  return Math.max(10, Math.min(1_000, refreshLeadMs(Math.min(...live)) / 2));
}

interface InFlight {
  readonly promise: Promise<SubjectAccessReviewStatus>;
  /** The latest use of the entry: a request that waits for this review counts. */
  lastUsedAt: number | undefined;
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
  readonly #inFlight = new Map<string, InFlight>();
  readonly #now: Clock;
  readonly #counter: ReviewCounter;
  readonly #refreshAhead: boolean;
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<number> | undefined;

  /** Throws Error on a malformed always-allow path. Starts the refresh timer (see {@link close}). */
  constructor(o: DelegatingAuthorizerOptions) {
    this.#o = o;
    this.#groups = new Set(o.alwaysAllowGroups ?? ["system:masters"]);
    this.#paths = alwaysAllowPathMatcher(o.alwaysAllowPaths ?? DEFAULT_ALWAYS_ALLOW_PATHS);
    this.#now = o.now ?? Date.now;
    this.#refreshAhead = o.refreshAhead ?? true;
    // Expired answers are kept for their use history only where refresh passes sweep them.
    this.#cache = new TtlCache<SubjectAccessReviewStatus>(8192, this.#now, this.#refreshAhead);
    this.#counter = o.counter ?? new ReviewCounter();
    const interval =
      o.refreshIntervalMs ??
      (o.now === undefined
        ? defaultRefreshIntervalMs([this.#authorizedTtl, this.#unauthorizedTtl])
        : 0);
    if (this.#refreshAhead && interval > 0) {
      this.#timer = setInterval(() => {
        if (this.#pass !== undefined) return;
        this.#pass = this.refreshDue().finally(() => {
          this.#pass = undefined;
        });
      }, interval);
      this.#timer.unref();
    }
  }

  get #authorizedTtl(): number {
    return this.#o.authorizedTtlMs ?? 10_000;
  }

  get #unauthorizedTtl(): number {
    return this.#o.unauthorizedTtlMs ?? 10_000;
  }

  /** How many SubjectAccessReviews were sent (misses and refreshes), for tests and metrics. */
  get reviewsSent(): number {
    return this.#counter.total;
  }

  /** The reviews sent, by trigger: `request` (a request waited for it) or `refresh`. */
  get reviews(): ReviewCounter {
    return this.#counter;
  }

  /** Stops the refresh timer; answers already cached stay until they expire. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * One refresh pass: asks again, at most `refreshConcurrency` at a time, for every cached answer
   * in use that is close to its expiry and has no review in flight. Resolves with how many were
   * sent once they are all back; a failed refresh leaves the entry to expire. The timer calls
   * this, one pass at a time; tests with an injected clock call it themselves.
   */
  async refreshDue(): Promise<number> {
    if (!this.#refreshAhead) return 0;
    const keys = this.#cache.dueForRefresh(REFRESH_POLICY);
    let next = 0;
    let sent = 0;
    const worker = async (): Promise<void> => {
      while (next < keys.length) {
        const key = keys[next++] as string;
        if (this.#inFlight.has(key) || !this.#cache.isDueForRefresh(key, REFRESH_POLICY)) continue;
        sent++;
        const spec = JSON.parse(key) as SubjectAccessReviewSpec;
        await this.#review(key, spec, "refresh").catch(() => undefined);
      }
    };
    const width = Math.max(1, Math.min(this.#o.refreshConcurrency ?? 4, keys.length));
    await Promise.all(Array.from({ length: width }, worker));
    return sent;
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
      status = await this.#review(key, spec, "request");
    } catch (e) {
      const msg = `SubjectAccessReview failed: ${(e as Error).message}`;
      return { allowed: false, reason: msg, statusReason: msg, decidedBy: "error" };
    }
    return decision(status, user, attrs, "review");
  }

  /**
   * One SubjectAccessReview per distinct question at a time: a burst of identical requests (HPAs
   * of one namespace asking for the same metric at their common resync) waits for the first
   * one's answer instead of each sending its own, and a request whose cached answer expired while
   * its refresh is in flight waits for that refresh. The answer is then cached for its TTL, from
   * when it arrived (as the webhook authorizer's cache), keeping the entry's latest use.
   */
  #review(
    key: string,
    spec: SubjectAccessReviewSpec,
    trigger: ReviewTrigger,
  ): Promise<SubjectAccessReviewStatus> {
    const pending = this.#inFlight.get(key);
    if (pending) {
      if (trigger === "request") pending.lastUsedAt = this.#now();
      return pending.promise;
    }
    const flight: InFlight = {
      promise: this.#send(spec, trigger)
        .then((status) => {
          const ttl = isAllowed(status) ? this.#authorizedTtl : this.#unauthorizedTtl;
          const used = [flight.lastUsedAt, this.#cache.lastUsedAt(key)].filter(
            (t): t is number => t !== undefined,
          );
          this.#cache.set(key, status, ttl, used.length > 0 ? Math.max(...used) : undefined);
          return status;
        })
        .finally(() => this.#inFlight.delete(key)),
      lastUsedAt: trigger === "request" ? this.#now() : undefined,
    };
    this.#inFlight.set(key, flight);
    return flight.promise;
  }

  async #send(
    spec: SubjectAccessReviewSpec,
    trigger: ReviewTrigger,
  ): Promise<SubjectAccessReviewStatus> {
    this.#counter.inc(trigger);
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
