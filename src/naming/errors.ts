/**
 * @module naming/errors
 * The error naming code throws when a rule cannot be turned into a namer. Messages follow
 * upstream's wording so logs read the same as prometheus-adapter's.
 */

export class NamingError extends Error {
  override readonly name = "NamingError";
}
