/**
 * @module naming/re2-error
 * The error of a config regex that is not valid RE2, or uses RE2 syntax naming/re2.ts cannot
 * express: the reason and a hint, apart.
 */

/** Thrown when a pattern is not valid RE2 or uses RE2 syntax this port cannot express. */
export class Re2SyntaxError extends Error {
  override readonly name = "Re2SyntaxError";
  readonly pattern: string;
  /** What is wrong, without the pattern. */
  readonly reason: string;
  /** What to do about it. */
  readonly hint: string;

  constructor(pattern: string, reason: string, hint: string) {
    super(`invalid regular expression ${JSON.stringify(pattern)}: ${reason}; ${hint}`);
    this.pattern = pattern;
    this.reason = reason;
    this.hint = hint;
  }
}
