/**
 * @module template/printing
 * Go fmt's value printing (fmt/print.go, fmt/format.go): `%v` and the other verbs for one value,
 * `Sprint` and `Sprintln`. A slice prints as `[a b]`, a map as `map[k1:v1 k2:v2]` with sorted
 * keys, a struct as `{v1 v2}`, nil as `<nil>`; a verb that does not fit the value prints as
 * `%!d(string=x)`.
 */

import { canBackquote, formatFloat, quote, quoteRune } from "./go-strconv.ts";
import { GoFloat, GoMap, GoStruct, Unsupported, kindOf, normalize, typeName } from "./values.ts";
import type { Value } from "./values.ts";

/** The flags, width and precision of one printf verb. */
export interface FmtFlags {
  plus: boolean;
  /** `%+v`: print struct field names (fmt moves `+` here for the v verb). */
  plusV: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | undefined;
  prec: number | undefined;
}

export function noFlags(): FmtFlags {
  return {
    plus: false,
    plusV: false,
    minus: false,
    sharp: false,
    space: false,
    zero: false,
    width: undefined,
    prec: undefined,
  };
}

/** Code points, a lone surrogate counting as one (as Array.from counts), without allocating. */
function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++, n++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

/** fmt.pad: width counts runes; zero padding goes on the left only. */
function pad(s: string, f: FmtFlags, zeroOk = true): string {
  // Nearly every value is printed without a width: nothing to count (a rendered query's label
  // matchers run to kilobytes).
  if (f.width === undefined || f.width <= 0) return s;
  const missing = f.width - runeCount(s);
  if (missing <= 0) return s;
  if (f.minus) return s + " ".repeat(missing);
  return (f.zero && zeroOk ? "0" : " ").repeat(missing) + s;
}

function badVerb(verb: string, v: Value, f: FmtFlags): string {
  if (v === null) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(v)}=${formatValue(v, "v", f)})`;
}

/** fmt.fmtInteger for a JS safe integer. */
function fmtInteger(n: number, base: number, verb: string, f: FmtFlags): string {
  const negative = n < 0;
  let digits = Math.abs(n).toString(base);
  if (verb === "X") digits = digits.toUpperCase();
  let prec = 0;
  if (f.prec !== undefined) {
    prec = f.prec;
    if (prec === 0 && n === 0) return pad("", { ...f, zero: false });
  } else if (f.zero && !f.minus && f.width !== undefined) {
    prec = f.width;
    if (negative || f.plus || f.space) prec--;
  }
  digits = digits.padStart(prec, "0");
  if (f.sharp) {
    if (base === 2) digits = `0b${digits}`;
    if (base === 8 && !digits.startsWith("0")) digits = `0${digits}`;
    if (base === 16) digits = `${verb === "X" ? "0X" : "0x"}${digits}`;
  }
  if (verb === "O") digits = `0o${digits}`;
  const sign = negative ? "-" : f.plus ? "+" : f.space ? " " : "";
  return pad(sign + digits, { ...f, zero: false });
}

function fmtInt(n: number, verb: string, f: FmtFlags): string {
  switch (verb) {
    case "v":
    case "d":
      return fmtInteger(n, 10, verb, f);
    case "b":
      return fmtInteger(n, 2, verb, f);
    case "o":
    case "O":
      return fmtInteger(n, 8, verb, f);
    case "x":
    case "X":
      return fmtInteger(n, 16, verb, f);
    case "c":
      return pad(validRune(n) ? String.fromCodePoint(n) : "\ufffd", f);
    case "q": {
      const cp = validRune(n) ? n : 0xfffd;
      const raw = String.fromCodePoint(cp);
      if (f.sharp && raw !== "`" && canBackquote(raw)) return pad(`\`${raw}\``, f);
      return pad(quoteRune(cp, f.plus), f);
    }
    case "U": {
      let s = `U+${n.toString(16).toUpperCase().padStart(4, "0")}`;
      if (f.sharp && validRune(n)) s += ` '${String.fromCodePoint(n)}'`;
      return pad(s, { ...f, zero: false });
    }
    default:
      return badVerb(verb, n, f);
  }
}

function validRune(n: number): boolean {
  return n >= 0 && n <= 0x10ffff && !(n >= 0xd800 && n <= 0xdfff);
}

/** fmt.fmtFloat: sign handling, and no zero padding for Inf and NaN. */
function fmtFloat(x: number, verb: string, f: FmtFlags): string {
  let fmtVerb: "e" | "E" | "f" | "g" | "G";
  let prec: number;
  switch (verb) {
    case "v":
    case "g":
    case "G":
      fmtVerb = verb === "G" ? "G" : "g";
      prec = -1;
      break;
    case "e":
    case "E":
    case "f":
    case "F":
      fmtVerb = verb === "F" ? "f" : verb;
      prec = 6;
      break;
    default:
      return badVerb(verb, new GoFloat(x), f);
  }
  if (f.prec !== undefined) prec = f.prec;
  let num = formatFloat(x, fmtVerb, prec);
  if (!num.startsWith("-") && !num.startsWith("+")) num = `+${num}`;
  if (f.space && num.startsWith("+") && !f.plus) num = ` ${num.slice(1)}`;
  if (num[1] === "I" || num[1] === "N") {
    if (num[1] === "N" && !f.space && !f.plus) num = num.slice(1);
    return pad(num, { ...f, zero: false });
  }
  if (f.plus || !num.startsWith("+")) {
    const width = f.width ?? 0;
    if (f.zero && !f.minus && width > num.length) {
      return num.charAt(0) + "0".repeat(width - num.length) + num.slice(1);
    }
    return pad(num, f);
  }
  return pad(num.slice(1), f);
}

function truncateRunes(s: string, prec: number | undefined): string {
  if (prec === undefined) return s;
  return Array.from(s).slice(0, prec).join("");
}

function fmtString(s: string, verb: string, f: FmtFlags): string {
  switch (verb) {
    case "v":
    case "s":
      return pad(truncateRunes(s, f.prec), f);
    case "q": {
      const t = truncateRunes(s, f.prec);
      if (f.sharp && canBackquote(t)) return pad(`\`${t}\``, f);
      return pad(quote(t, f.plus), f);
    }
    case "x":
    case "X": {
      let bytes = Array.from(Buffer.from(s, "utf8"));
      if (f.prec !== undefined) bytes = bytes.slice(0, f.prec);
      const hex = bytes.map((b) => {
        const h = b.toString(16).padStart(2, "0");
        return verb === "X" ? h.toUpperCase() : h;
      });
      const prefix = f.sharp ? (verb === "X" ? "0X" : "0x") : "";
      const body = f.space
        ? hex.map((h) => prefix + h).join(" ")
        : hex.length > 0
          ? prefix + hex.join("")
          : "";
      return pad(body, f);
    }
    default:
      return badVerb(verb, s, f);
  }
}

function sortedKeys(map: GoMap): string[] {
  return [...map.entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Prints an element inside a slice, map or struct: a nil there is `<nil>` whatever the verb. */
function formatElement(raw: unknown, verb: string, f: FmtFlags): string {
  const v = normalize(raw);
  if (v === null) return pad("<nil>", f);
  return formatValue(v, verb, f);
}

function describeUnsupported(raw: unknown): string {
  if (typeof raw === "function") return `func ${raw.name}`;
  if (typeof raw === "symbol") return raw.toString();
  if (raw instanceof Date) return raw.toISOString();
  return Object.prototype.toString.call(raw);
}

/** Formats one value with one verb (fmt's printArg / printValue). */
export function formatValue(raw: unknown, verb: string, f: FmtFlags): string {
  const v = normalize(raw);
  if (verb === "T") return pad(typeName(v), f);
  switch (kindOf(v)) {
    case "invalid":
      return verb === "v" ? pad("<nil>", f) : badVerb(verb, null, f);
    case "bool":
      return verb === "v" || verb === "t" ? pad(v ? "true" : "false", f) : badVerb(verb, v, f);
    case "int":
      return fmtInt(v as number, verb, f);
    case "float":
      return fmtFloat((v as GoFloat).value, verb, f);
    case "string":
      return fmtString(v as string, verb, f);
    case "slice": {
      const items = (v as readonly unknown[]).map((item) => formatElement(item, verb, f));
      return `[${items.join(" ")}]`;
    }
    case "map": {
      const map = v as GoMap;
      const items = sortedKeys(map).map(
        (k) => `${formatElement(k, verb, f)}:${formatElement(map.entries.get(k), verb, f)}`,
      );
      return `map[${items.join(" ")}]`;
    }
    case "struct": {
      const items = [...(v as GoStruct).fields].map(
        ([name, field]) => (f.plusV ? `${name}:` : "") + formatElement(field, verb, f),
      );
      return `{${items.join(" ")}}`;
    }
    case "unsupported":
      return pad(describeUnsupported((v as Unsupported).raw), f);
  }
}

/** fmt.Sprint: a space between operands when neither is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = "";
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = typeof arg === "string";
    if (i > 0 && !isString && !prevString) out += " ";
    out += formatValue(arg, "v", noFlags());
    prevString = isString;
  });
  return out;
}

/** fmt.Sprintln: always a space between operands, and a newline at the end. */
export function sprintln(args: readonly unknown[]): string {
  return `${args.map((arg) => formatValue(arg, "v", noFlags())).join(" ")}\n`;
}

/** How `{{pipeline}}` prints its value: a missing value is `<no value>` (exec.go printableValue). */
export function printForAction(v: Value): string {
  return v === null ? "<no value>" : formatValue(v, "v", noFlags());
}
