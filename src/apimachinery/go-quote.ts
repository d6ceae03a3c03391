/**
 * @module apimachinery/go-quote
 * Go's `strconv.Quote`, `QuoteToASCII` and `QuoteRune` (the `%q` verb). Kubernetes error messages
 * quote bad values with it, PromQL reads Go-quoted string literals, and the template engine prints
 * `%q` with it: one exact port serves all three.
 */

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

function escapeRune(cp: number, quote: string, asciiOnly: boolean): string {
  const ch = String.fromCodePoint(cp);
  if (ch === quote || ch === "\\") return `\\${ch}`;
  if (cp < 0x80 ? cp >= 0x20 && cp !== 0x7f : !asciiOnly && PRINTABLE.test(ch)) return ch;
  switch (ch) {
    case "\x07":
      return "\\a";
    case "\b":
      return "\\b";
    case "\f":
      return "\\f";
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    case "\v":
      return "\\v";
  }
  if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).padStart(2, "0")}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, "0")}`;
  return `\\U${cp.toString(16).padStart(8, "0")}`;
}

/** A lone UTF-16 surrogate is no Unicode scalar: Go would see U+FFFD there. */
function scalar(cp: number): number {
  return cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp;
}

/** Printable ASCII other than `"` and `\`: each such character quotes as itself. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** strconv.Quote (asciiOnly: strconv.QuoteToASCII). */
export function quote(s: string, asciiOnly = false): string {
  // Object names and label values are nearly always plain: one string instead of one per
  // character (a 1,000-pod query quoted 1,000 names twice, a fifth of what a request allocated).
  if (PLAIN.test(s)) return `"${s}"`;
  let out = '"';
  for (const ch of s) out += escapeRune(scalar(ch.codePointAt(0) ?? 0xfffd), '"', asciiOnly);
  return `${out}"`;
}

/** strconv.QuoteRune. */
export function quoteRune(cp: number, asciiOnly = false): string {
  const valid = cp >= 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
  return `'${escapeRune(valid ? cp : 0xfffd, "'", asciiOnly)}'`;
}

/** Go's `%q` / strconv.Quote. */
export function goQuote(s: string): string {
  return quote(s);
}
