/**
 * @module template/printf
 * Go's fmt.Sprintf (fmt/print.go `doPrintf`): flags `#0+- `, width and precision (digits or `*`),
 * explicit argument indexes `[n]`, and the error forms `%!d(MISSING)`, `%!(EXTRA int=2)`,
 * `%!(NOVERB)`, `%!(BADWIDTH)`, `%!(BADPREC)`, `%!d(BADINDEX)`. Verbs are printed by printing.ts.
 */

import { formatValue, noFlags } from "./printing.ts";
import type { FmtFlags } from "./printing.ts";
import { normalize, typeName } from "./values.ts";

function parseNum(format: string, i: number): { num: number | undefined; next: number } {
  let j = i;
  while (/[0-9]/.test(format.charAt(j))) j++;
  if (j === i) return { num: undefined, next: i };
  return { num: Number(format.slice(i, j)), next: j };
}

/** Arguments given to `*` must be ints. */
function intArg(args: readonly unknown[], argNum: number): number | undefined {
  const v = normalize(args[argNum]);
  return typeof v === "number" ? v : undefined;
}

/** An explicit argument index `[n]` at `i`, as fmt's argNumber reads it. */
function argNumber(
  format: string,
  i: number,
  argNum: number,
  numArgs: number,
): { argNum: number; next: number; found: boolean; ok: boolean; seen: boolean } {
  if (format[i] !== "[") return { argNum, next: i, found: false, ok: true, seen: false };
  const close = format.indexOf("]", i);
  if (close < 0) return { argNum, next: format.length, found: false, ok: false, seen: true };
  const digits = format.slice(i + 1, close);
  if (!/^[0-9]+$/.test(digits) || Number(digits) < 1) {
    return { argNum, next: close + 1, found: false, ok: false, seen: true };
  }
  const n = Number(digits) - 1;
  // An index past the arguments is BADINDEX, not MISSING.
  if (n >= numArgs) return { argNum, next: close + 1, found: true, ok: false, seen: true };
  return { argNum: n, next: close + 1, found: true, ok: true, seen: true };
}

function readFlags(format: string, start: number, f: FmtFlags): number {
  let i = start;
  for (;;) {
    const c = format.charAt(i);
    if (c === "#") f.sharp = true;
    else if (c === "0") f.zero = !f.minus;
    else if (c === "+") f.plus = true;
    else if (c === "-") {
      f.minus = true;
      f.zero = false;
    } else if (c === " ") f.space = true;
    else return i;
    i++;
  }
}

export function sprintf(format: string, args: readonly unknown[]): string {
  let out = "";
  let argNum = 0;
  let reordered = false;
  let i = 0;
  const end = format.length;
  while (i < end) {
    const pct = format.indexOf("%", i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    const f: FmtFlags = noFlags();
    i = readFlags(format, pct + 1, f);
    let r = argNumber(format, i, argNum, args.length);
    let afterIndex: boolean;
    let goodArgNum: boolean;
    ({ argNum, next: i, found: afterIndex, ok: goodArgNum } = r);
    reordered ||= r.seen;
    if (format.charAt(i) === "*") {
      i++;
      const w = intArg(args, argNum);
      argNum++;
      if (w === undefined) out += "%!(BADWIDTH)";
      else if (w < 0) {
        f.width = -w;
        f.minus = true;
        f.zero = false;
      } else f.width = w;
      afterIndex = false;
    } else {
      const w = parseNum(format, i);
      f.width = w.num;
      i = w.next;
      if (afterIndex && f.width !== undefined) goodArgNum = false;
    }
    if (i + 1 < end && format.charAt(i) === ".") {
      i++;
      if (afterIndex) goodArgNum = false;
      r = argNumber(format, i, argNum, args.length);
      ({ argNum, next: i, found: afterIndex } = r);
      goodArgNum &&= r.ok;
      reordered ||= r.seen;
      if (format.charAt(i) === "*") {
        i++;
        const p = intArg(args, argNum);
        argNum++;
        if (p === undefined || p < 0) {
          f.prec = undefined;
          if (p === undefined) out += "%!(BADPREC)";
        } else f.prec = p;
        afterIndex = false;
      } else {
        const p = parseNum(format, i);
        f.prec = p.num ?? 0;
        i = p.next;
      }
    }
    if (!afterIndex) {
      r = argNumber(format, i, argNum, args.length);
      ({ argNum, next: i } = r);
      goodArgNum &&= r.ok;
      reordered ||= r.seen;
    }
    if (i >= end) {
      out += "%!(NOVERB)";
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0);
    i += verb.length;
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    if (verb === "v") {
      // `%+v` names struct fields and `%#v` would be Go syntax; neither signs numbers.
      f.plusV = f.plus;
      f.plus = false;
      f.sharp = false;
    }
    out += formatValue(args[argNum], verb, f);
    argNum++;
  }
  if (!reordered && argNum < args.length) {
    const extra = args.slice(argNum).map((arg) => {
      const v = normalize(arg);
      return v === null ? "<nil>" : `${typeName(v)}=${formatValue(v, "v", noFlags())}`;
    });
    out += `%!(EXTRA ${extra.join(", ")})`;
  }
  return out;
}
