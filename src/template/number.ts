/**
 * @module template/number
 * Number literals as Go's parse.newNumber reads them (text/template/parse/node.go): a literal can
 * be an int, a uint and a float at once; strconv's base-prefix and underscore rules apply.
 */

import { quote, unquoteChar } from "./go-strconv.ts";

export interface NumberValue {
  isInt: boolean;
  isUint: boolean;
  isFloat: boolean;
  int: number;
  float: number;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

const DIGITS: Readonly<Record<number, string>> = {
  2: "01",
  8: "01234567",
  10: "0123456789",
  16: "0123456789abcdefABCDEF",
};

/** strconv.ParseInt(s, 0, 64) without the range check: a BigInt, or undefined. */
function parseBigInt(text: string, allowSign: boolean): bigint | undefined {
  let s = text;
  let neg = false;
  if (s.startsWith("+") || s.startsWith("-")) {
    if (!allowSign) return undefined;
    neg = s.startsWith("-");
    s = s.slice(1);
  }
  let base = 10;
  let prefixed = false;
  const lower = s.slice(0, 2).toLowerCase();
  if (lower === "0x" || lower === "0o" || lower === "0b") {
    base = lower === "0x" ? 16 : lower === "0o" ? 8 : 2;
    s = s.slice(2);
    prefixed = true;
  } else if (s.length > 1 && s.startsWith("0")) {
    base = 8;
    s = s.slice(1);
    prefixed = true;
  }
  const d = `[${DIGITS[base] ?? ""}]`;
  // Underscores only between digits, or right after a base prefix (strconv underscoreOK).
  const shape = new RegExp(`^${prefixed ? "_?" : ""}${d}+(_${d}+)*$`);
  if (!shape.test(s)) return undefined;
  const digits = s.replaceAll("_", "");
  const prefix = base === 16 ? "0x" : base === 8 ? "0o" : base === 2 ? "0b" : "";
  const value = BigInt(prefix + digits);
  return neg ? -value : value;
}

/** strconv.ParseFloat(s, 64) for decimal and hex literals; undefined when malformed. */
function parseFloatLiteral(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith("+") || s.startsWith("-")) {
    sign = s.startsWith("-") ? -1 : 1;
    s = s.slice(1);
  }
  if (/^0[xX]/.test(s)) {
    const m = /^0[xX]_?([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?[0-9_]+)$/.exec(s);
    if (m === null) return undefined;
    const intPart = (m[1] ?? "").replaceAll("_", "");
    const frac = (m[2] ?? "").replaceAll("_", "");
    if (intPart + frac === "") return undefined;
    const mantissa = Number.parseInt(intPart + frac || "0", 16);
    const exp = Number((m[3] ?? "0").replaceAll("_", "")) - 4 * frac.length;
    return finite(sign * mantissa * 2 ** exp);
  }
  if (!/^(\d(_?\d)*)?(\.(\d(_?\d)*)?)?([eE][+-]?\d(_?\d)*)?$/.test(s)) return undefined;
  if (!/\d/.test(s.replace(/[eE].*$/, ""))) return undefined;
  return finite(sign * Number(s.replaceAll("_", "")));
}

/** strconv reports overflow to ±Inf as an error. */
function finite(f: number): number | undefined {
  return Number.isFinite(f) ? f : undefined;
}

/** Reads a number or character literal; throws an Error with Go's message when malformed. */
export function parseNumber(text: string, isChar: boolean): NumberValue {
  if (isChar) {
    const r = unquoteChar(text, 1, "'");
    if (r === undefined) throw new Error("invalid syntax");
    if (text.slice(r.next) !== "'") throw new Error(`malformed character constant: ${text}`);
    const cp = r.value.codePointAt(0) ?? 0;
    return { isInt: true, isUint: true, isFloat: true, int: cp, float: cp };
  }
  const n: NumberValue = { isInt: false, isUint: false, isFloat: false, int: 0, float: 0 };
  const u = parseBigInt(text, false);
  if (u !== undefined && u <= UINT64_MAX) n.isUint = true;
  const i = parseBigInt(text, true);
  if (i !== undefined && i >= INT64_MIN && i <= INT64_MAX) {
    n.isInt = true;
    n.int = Number(i);
    // "-0" fails ParseUint yet is a fine uint.
    if (i === 0n) n.isUint = true;
  }
  if (n.isInt || n.isUint) {
    n.isFloat = true;
    n.float = Number(i ?? u ?? 0n);
    return n;
  }
  const f = parseFloatLiteral(text);
  if (f !== undefined) {
    // Parsed as a float yet written like an integer: too large for int64.
    if (!/[.eEpP]/.test(text)) throw new Error(`integer overflow: ${quote(text)}`);
    n.isFloat = true;
    n.float = f;
    if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) {
      n.isInt = true;
      n.int = f;
    }
    if (Number.isInteger(f) && f >= 0 && f < 2 ** 64) n.isUint = true;
    return n;
  }
  throw new Error(`illegal number syntax: ${quote(text)}`);
}
