/**
 * @module apimachinery/go-quote
 * Go's `strconv.Quote` (the `%q` verb). Kubernetes error messages quote bad values with it, and
 * PromQL reads Go-quoted string literals, so one exact port serves both.
 */

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const HEX = "0123456789abcdef";

/** Mirrors strconv.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space. */
function isGoPrintable(cp: number): boolean {
  if (cp === 0x20) return true;
  if (cp < 0x20 || cp === 0x7f) return false;
  return PRINTABLE.test(String.fromCodePoint(cp));
}

function hex(cp: number, width: number): string {
  let out = "";
  for (let shift = (width - 1) * 4; shift >= 0; shift -= 4) {
    out += HEX[(cp >>> shift) & 0xf] ?? "";
  }
  return out;
}

/**
 * Quote `s` exactly like Go's `strconv.Quote`. A lone UTF-16 surrogate (which a Go string cannot
 * hold) is treated as U+FFFD, which is what UTF-8 encoding of the JS string would produce.
 *
 * @example goQuote('a"b\n') === '"a\\"b\\n"'
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    let cp = ch.codePointAt(0) ?? 0xfffd;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (cp === 0x22 || cp === 0x5c) {
      out += "\\" + String.fromCodePoint(cp);
      continue;
    }
    if (isGoPrintable(cp)) {
      out += String.fromCodePoint(cp);
      continue;
    }
    switch (cp) {
      case 0x07:
        out += "\\a";
        break;
      case 0x08:
        out += "\\b";
        break;
      case 0x0c:
        out += "\\f";
        break;
      case 0x0a:
        out += "\\n";
        break;
      case 0x0d:
        out += "\\r";
        break;
      case 0x09:
        out += "\\t";
        break;
      case 0x0b:
        out += "\\v";
        break;
      default:
        if (cp < 0x20 || cp === 0x7f) out += "\\x" + hex(cp, 2);
        else if (cp < 0x10000) out += "\\u" + hex(cp, 4);
        else out += "\\U" + hex(cp, 8);
    }
  }
  return out + '"';
}
