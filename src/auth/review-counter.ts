/**
 * @module auth/review-counter
 * How many reviews (SubjectAccessReview, TokenReview) were sent to the API server, by what caused
 * them: a `request` that found no live cached answer (it waited for the review), or a background
 * `refresh` of an answer in use before it expired (no request waited for it). One review is
 * counted once, however many HTTP attempts its retries took. Plain numbers, so src/auth needs no
 * metrics library; server/builders/auth.ts exposes them on the adapter's /metrics.
 */

export type ReviewTrigger = "request" | "refresh";

export const REVIEW_TRIGGERS: readonly ReviewTrigger[] = ["request", "refresh"];

export class ReviewCounter {
  #request = 0;
  #refresh = 0;

  inc(trigger: ReviewTrigger): void {
    if (trigger === "request") this.#request++;
    else this.#refresh++;
  }

  get(trigger: ReviewTrigger): number {
    return trigger === "request" ? this.#request : this.#refresh;
  }

  get total(): number {
    return this.#request + this.#refresh;
  }
}
