/**
 * @module promql/escape
 * Escaping for values placed inside PromQL. String literals use Go's `%q` (PromQL unquotes with Go
 * rules, so this round-trips exactly), and regex alternatives use Go's `regexp.QuoteMeta`, so a
 * value such as `a|b` or `.*` stays a literal instead of widening a `=~` match.
 */

import { goQuote } from "../apimachinery/go-quote.ts";

/**
 * A PromQL double-quoted string literal holding exactly `value` (Go `strconv.Quote`).
 *
 * @example quoteString('say "hi"') === '"say \\"hi\\""'
 */
export function quoteString(value: string): string {
  return goQuote(value);
}

/**
 * Go's `regexp.QuoteMeta`: backslash before each of `\.+*?()|[]{}^$`, so the result matches only
 * the literal text under RE2 (and JavaScript) syntax.
 *
 * @example escapeRegex("a.b|c") === "a\\.b\\|c"
 */
export function escapeRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, (ch) => `\\${ch}`);
}
