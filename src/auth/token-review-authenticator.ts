/**
 * @module auth/token-review-authenticator
 * Bearer tokens, checked by the API server through a TokenReview (authentication.k8s.io/v1) and
 * cached by token: both verdicts for the same TTL, errors not at all. Mirrors k8s.io/apiserver
 * pkg/authentication/request/bearertoken/bearertoken.go,
 * plugin/pkg/authenticator/token/webhook/webhook.go and pkg/authentication/token/cache.
 *
 * No refresh ahead here (unlike the authorizer's cache): refreshing a token's review in the
 * background would need the raw token kept in memory for as long as its entry lives, and the
 * cache is keyed by a hash so that it is not. The aggregator's requests (the HPA path) carry a
 * front-proxy certificate, not a token, so they never reach this cache.
 */
import { createHash } from "node:crypto";
import { firstHeaderValue } from "./headers.ts";
import { DEFAULT_WEBHOOK_BACKOFF, withRetry, type Backoff } from "./retry.ts";
import { ReviewCounter } from "./review-counter.ts";
import { TtlCache } from "./ttl-cache.ts";
import type { AuthHeaders, AuthenticatorAttempt, Clock, KubeJson, UserInfo } from "./types.ts";

export const TOKEN_REVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews";

export interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  audiences?: string[];
  error?: string;
}

export interface TokenReviewAuthenticatorOptions {
  readonly client: KubeJson;
  /** `--authentication-token-webhook-cache-ttl`, 10 s by default; 0 turns caching off. */
  readonly cacheTtlMs?: number | undefined;
  /** Audiences to ask for; empty means the API server's own. */
  readonly audiences?: readonly string[] | undefined;
  /** Counts the TokenReviews sent (all `request`); default a counter of its own. */
  readonly counter?: ReviewCounter | undefined;
  readonly now?: Clock | undefined;
  readonly backoff?: Backoff | undefined;
}

/**
 * bearertoken.AuthenticateRequest's header parsing: `Authorization: Bearer <token>`, scheme
 * case-insensitive, exactly one space; anything else is not a bearer token.
 */
export function bearerToken(headers: AuthHeaders): string | undefined {
  const auth = firstHeaderValue(headers, "authorization").trim();
  if (auth === "") return undefined;
  const parts = auth.split(" ");
  if (parts.length < 2 || parts[0]?.toLowerCase() !== "bearer") return undefined;
  const token = parts[1] ?? "";
  return token === "" ? undefined : token;
}

type Verdict = { ok: true; user: UserInfo } | { ok: false; reason: string };

export class TokenReviewAuthenticator {
  readonly #o: TokenReviewAuthenticatorOptions;
  readonly #cache: TtlCache<Verdict>;
  readonly #ttlMs: number;
  readonly #counter: ReviewCounter;

  constructor(o: TokenReviewAuthenticatorOptions) {
    this.#o = o;
    this.#ttlMs = o.cacheTtlMs ?? 10_000;
    this.#cache = new TtlCache<Verdict>(4096, o.now ?? Date.now);
    this.#counter = o.counter ?? new ReviewCounter();
  }

  /** How many TokenReviews were sent (cache misses), for tests and metrics. */
  get reviewsSent(): number {
    return this.#counter.total;
  }

  async authenticate(headers: AuthHeaders): Promise<AuthenticatorAttempt> {
    const token = bearerToken(headers);
    if (token === undefined) return { kind: "skip" };
    const verdict = await this.review(token);
    return verdict.ok
      ? { kind: "user", user: verdict.user }
      : { kind: "error", reason: `token: ${verdict.reason}` };
  }

  /** Reviews one token, through the cache. Throws nothing: an API error is a failed verdict. */
  async review(token: string): Promise<Verdict> {
    // Keyed by a hash so raw tokens do not sit in memory longer than the request.
    const key = createHash("sha256").update(token).digest("base64");
    const cached = this.#cache.get(key);
    if (cached) return cached;
    let status: TokenReviewStatus;
    try {
      status = await this.#send(token);
    } catch (e) {
      return { ok: false, reason: `TokenReview failed: ${(e as Error).message}` };
    }
    const verdict = toVerdict(status);
    this.#cache.set(key, verdict, this.#ttlMs);
    return verdict;
  }

  async #send(token: string): Promise<TokenReviewStatus> {
    this.#counter.inc("request");
    const spec: { token: string; audiences?: string[] } = { token };
    if (this.#o.audiences && this.#o.audiences.length > 0) spec.audiences = [...this.#o.audiences];
    const body = { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec };
    const res = await withRetry(
      () => this.#o.client.json<{ status?: TokenReviewStatus }>("POST", TOKEN_REVIEW_PATH, body),
      this.#o.backoff ?? DEFAULT_WEBHOOK_BACKOFF,
    );
    return res.status ?? {};
  }
}

function toVerdict(s: TokenReviewStatus): Verdict {
  const name = s.user?.username ?? "";
  if (s.authenticated !== true || name === "") {
    // bearertoken.go: with no error from the reviewer the reason is "invalid bearer token".
    return { ok: false, reason: s.error ? s.error : "invalid bearer token" };
  }
  const user: UserInfo = {
    name,
    groups: [...(s.user?.groups ?? [])],
    extra: { ...(s.user?.extra ?? {}) },
  };
  if (s.user?.uid) user.uid = s.user.uid;
  return { ok: true, user };
}
