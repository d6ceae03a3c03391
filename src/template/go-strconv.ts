/**
 * @module template/go-strconv
 * The parts of Go's strconv that printing needs: `Quote`, `QuoteRune`, `Unquote` and `FormatFloat`
 * (formats e, f, g). Floats round half-to-even on the exact binary value, as strconv does, so
 * `%.1f` of 0.25 is "0.2" (JS `toFixed` would say "0.3").
 */

export { quote, quoteRune } from "../apimachinery/go-quote.ts";

/** strconv.CanBackquote: true when `s` fits in a raw string literal. */
export function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === "`" || cp === 0xfeff) return false;
    if ((cp < 0x20 && ch !== "\t") || cp === 0x7f) return false;
  }
  return true;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  "'": "'",
  '"': '"',
};

/**
 * Reads one possibly escaped character of a quoted literal at `i`; mirrors strconv.UnquoteChar.
 * Returns undefined on a malformed escape.
 */
export function unquoteChar(
  s: string,
  i: number,
  quoteChar: string,
): { value: string; next: number } | undefined {
  const ch = s[i];
  if (ch === undefined) return undefined;
  if (ch !== "\\") {
    if (ch === quoteChar) return undefined;
    const cp = s.codePointAt(i) ?? 0;
    const value = String.fromCodePoint(cp);
    return { value, next: i + value.length };
  }
  const esc = s[i + 1];
  if (esc === undefined) return undefined;
  const simple = SIMPLE_ESCAPES[esc];
  if (simple !== undefined) {
    // Only the literal's own quote may be escaped, as in Go.
    if ((esc === "'" || esc === '"') && esc !== quoteChar) return undefined;
    return { value: simple, next: i + 2 };
  }
  const hexLen = esc === "x" ? 2 : esc === "u" ? 4 : esc === "U" ? 8 : 0;
  if (hexLen > 0) {
    const digits = s.slice(i + 2, i + 2 + hexLen);
    if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(digits)) return undefined;
    const cp = Number.parseInt(digits, 16);
    if (esc === "x") return { value: String.fromCharCode(cp), next: i + 2 + hexLen };
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
    return { value: String.fromCodePoint(cp), next: i + 2 + hexLen };
  }
  if (esc >= "0" && esc <= "7") {
    const digits = s.slice(i + 1, i + 4);
    if (!/^[0-7]{3}$/.test(digits)) return undefined;
    const cp = Number.parseInt(digits, 8);
    if (cp > 255) return undefined;
    return { value: String.fromCharCode(cp), next: i + 4 };
  }
  return undefined;
}

/** strconv.Unquote for "..." and `...` literals; undefined when malformed. */
export function unquote(literal: string): string | undefined {
  if (literal.length < 2) return undefined;
  const q = literal[0];
  if (q !== literal[literal.length - 1]) return undefined;
  const body = literal.slice(1, -1);
  if (q === "`") return body.includes("`") ? undefined : body.replaceAll("\r", "");
  if (q !== '"') return undefined;
  let out = "";
  let i = 0;
  while (i < body.length) {
    const r = unquoteChar(body, i, '"');
    if (r === undefined) return undefined;
    out += r.value;
    i = r.next;
  }
  return out;
}

/** Decimal digits of a positive float: value = 0.d1d2d3... × 10^dp; no trailing zeros. */
interface Decimal {
  digits: string;
  dp: number;
}

/** The exact decimal expansion of a finite, positive double. */
function exactDecimal(x: number): Decimal {
  let m = x;
  let e = 0;
  // Doubling is exact, so this finds x = m × 2^-e with m an integer.
  while (!Number.isInteger(m)) {
    m *= 2;
    e++;
  }
  const digits = (BigInt(m) * 5n ** BigInt(e)).toString();
  return trim({ digits, dp: digits.length - e });
}

function trim(d: Decimal): Decimal {
  const digits = d.digits.replace(/0+$/, "");
  return digits === "" ? { digits: "", dp: 0 } : { digits, dp: d.dp };
}

/** Rounds to `nd` digits, half to even on exact ties (strconv decimal.Round). */
function roundTo(d: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= d.digits.length) return nd < 0 ? { digits: "", dp: 0 } : d;
  const next = d.digits.charCodeAt(nd) - 48;
  let up = next > 5;
  if (next === 5) {
    const exactHalf = nd + 1 === d.digits.length;
    up = !exactHalf || (nd > 0 && (d.digits.charCodeAt(nd - 1) - 48) % 2 === 1);
  }
  if (!up) return trim({ digits: d.digits.slice(0, nd), dp: d.dp });
  let i = nd - 1;
  while (i >= 0 && d.digits[i] === "9") i--;
  if (i < 0) return { digits: "1", dp: d.dp + 1 };
  const digits = d.digits.slice(0, i) + String(d.digits.charCodeAt(i) - 47);
  return trim({ digits, dp: d.dp });
}

/** The shortest digits that read back as `x` (JS and Go agree on these). */
function shortestDecimal(x: number): Decimal {
  const [mant = "0", exp = "0"] = x.toExponential().split("e");
  return trim({ digits: mant.replace(".", ""), dp: Number(exp) + 1 });
}

function fmtE(d: Decimal, prec: number, e: "e" | "E"): string {
  let out = d.digits[0] ?? "0";
  if (prec > 0) out += `.${d.digits.slice(1, prec + 1).padEnd(prec, "0")}`;
  const exp = d.digits === "" ? 0 : d.dp - 1;
  const sign = exp < 0 ? "-" : "+";
  return `${out}${e}${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
}

function fmtF(d: Decimal, prec: number): string {
  let out = d.dp > 0 ? d.digits.slice(0, d.dp).padEnd(d.dp, "0") : "0";
  if (prec > 0) {
    out += ".";
    for (let i = 0; i < prec; i++) {
      const j = d.dp + i;
      out += j >= 0 && j < d.digits.length ? d.digits.charAt(j) : "0";
    }
  }
  return out;
}

/** strconv.FormatFloat(x, fmt, prec, 64) for fmt in e E f g G; prec -1 means shortest. */
export function formatFloat(x: number, fmt: "e" | "E" | "f" | "g" | "G", prec: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  const neg = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  const shortest = prec < 0;
  let d: Decimal;
  let p = prec;
  if (shortest) {
    d = abs === 0 ? { digits: "", dp: 0 } : shortestDecimal(abs);
  } else {
    const exact = abs === 0 ? { digits: "", dp: 0 } : exactDecimal(abs);
    switch (fmt) {
      case "e":
      case "E":
        d = roundTo(exact, p + 1);
        break;
      case "f":
        d = roundTo(exact, exact.dp + p);
        break;
      case "g":
      case "G":
        if (p === 0) p = 1;
        d = roundTo(exact, p);
        break;
    }
  }
  let body: string;
  switch (fmt) {
    case "e":
    case "E":
      body = fmtE(d, shortest ? Math.max(d.digits.length - 1, 0) : p, fmt);
      break;
    case "f":
      body = fmtF(d, shortest ? Math.max(d.digits.length - d.dp, 0) : p);
      break;
    case "g":
    case "G": {
      const nd = d.digits.length;
      if (shortest) p = nd;
      let eprec = p;
      if (eprec > nd && nd >= d.dp) eprec = nd;
      if (shortest) eprec = 6;
      const exp = d.dp - 1;
      if (exp < -4 || exp >= eprec) {
        body = fmtE(d, Math.min(p, nd) - 1, fmt === "g" ? "e" : "E");
      } else {
        body = fmtF(d, Math.max((p > d.dp ? nd : p) - d.dp, 0));
      }
      break;
    }
  }
  return neg ? `-${body}` : body;
}
