/**
 * @module template/functions
 * The Go builtins we implement (text/template/funcs.go): and, or, not, len, index, print, printf,
 * println and the comparisons. prometheus-adapter adds no FuncMap (pkg/naming/metrics_query.go,
 * resource_converter.go), so any other name is an error, exactly as in Go.
 */

import { formatValue, noFlags, sprint, sprintln } from "./printing.ts";
import { sprintf } from "./printf.ts";
import {
  GoFloat,
  GoMap,
  GoStruct,
  isTrue,
  kindOf,
  lengthOf,
  normalize,
  typeName,
} from "./values.ts";
import type { Value } from "./values.ts";

/**
 * How a parameter receives its argument: "value" is Go's reflect.Value (anything, nil included),
 * "any" is interface{}, "string" must be a string (printf's format).
 */
export type ParamKind = "value" | "any" | "string";

export interface Builtin {
  readonly params: readonly ParamKind[];
  readonly variadic: ParamKind | undefined;
  readonly call: (args: readonly Value[]) => Value;
}

/** A failure inside a builtin; exec reports it as `error calling NAME: MESSAGE`. */
export class FuncError extends Error {}

/** Go builtins this engine rejects at parse time rather than run differently. */
export const UNSUPPORTED_BUILTINS: ReadonlySet<string> = new Set([
  "call",
  "html",
  "js",
  "slice",
  "urlquery",
]);

type BasicKind = "bool" | "int" | "float" | "string";

function basicKind(v: Value): BasicKind | undefined {
  const kind = kindOf(v);
  return kind === "bool" || kind === "int" || kind === "float" || kind === "string"
    ? kind
    : undefined;
}

function scalar(v: Value): string | number | boolean {
  return v instanceof GoFloat ? v.value : (v as string | number | boolean);
}

function show(v: Value): string {
  return formatValue(v, "v", noFlags());
}

/** Go `==` on values that are not basic kinds. */
function equalComposite(a: Value, b: Value): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka !== kb && a !== null && b !== null) {
    throw new FuncError(
      `non-comparable types ${formatValue(a, "s", noFlags())}: ${typeName(a)}, ${typeName(b)}: ${show(b)}`,
    );
  }
  if (a === null || b === null) return a === b;
  if (ka === "slice" || ka === "map") {
    throw new FuncError(`non-comparable type ${formatValue(b, "s", noFlags())}: ${typeName(b)}`);
  }
  if (a instanceof GoStruct && b instanceof GoStruct) {
    if (a.typeName !== b.typeName) return false;
    for (const [name, field] of a.fields) {
      if (!eqValues(normalize(field), normalize(b.fields.get(name)))) return false;
    }
    return true;
  }
  return a === b;
}

function eqValues(a: Value, b: Value): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 !== k2) {
    if (a !== null && b !== null) {
      if (k1 === undefined || k2 === undefined) return equalComposite(a, b);
      throw new FuncError(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
    }
    return false;
  }
  if (k1 === undefined) return equalComposite(a, b);
  return scalar(a) === scalar(b);
}

function eq(args: readonly Value[]): boolean {
  const [first = null, ...rest] = args;
  if (rest.length === 0) throw new FuncError("missing argument for comparison");
  return rest.some((arg) => eqValues(first, arg));
}

function lt(a: Value, b: Value): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === undefined || k2 === undefined) throw new FuncError("invalid type for comparison");
  if (k1 !== k2) {
    throw new FuncError(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
  }
  if (k1 === "bool") throw new FuncError("invalid type for comparison");
  return scalar(a) < scalar(b);
}

function arg(args: readonly Value[], i: number): Value {
  return args[i] ?? null;
}

/** funcs.go indexArg: Go permits x == len here, and reflect then panics. */
function indexArg(index: Value, len: number, what: "slice" | "string"): number {
  if (index === null) throw new FuncError("cannot index slice/array with nil");
  if (typeof index !== "number") {
    throw new FuncError(`cannot index slice/array with type ${typeName(index)}`);
  }
  if (index < 0 || index > len) throw new FuncError(`index out of range: ${index}`);
  if (index === len) throw new FuncError(`reflect: ${what} index out of range`);
  return index;
}

function index(args: readonly Value[]): Value {
  let item = arg(args, 0);
  if (item === null) throw new FuncError("index of untyped nil");
  for (const idx of args.slice(1)) {
    if (item === null) throw new FuncError("index of nil pointer");
    if (typeof item === "string") {
      const bytes: Buffer = Buffer.from(item, "utf8");
      // A string indexes to a byte, as in Go.
      item = bytes[indexArg(idx, bytes.length, "string")] ?? 0;
    } else if (Array.isArray(item)) {
      const items = item as readonly unknown[];
      item = normalize(items[indexArg(idx, items.length, "slice")]);
    } else if (item instanceof GoMap) {
      if (idx === null) throw new FuncError("value is nil; should be of type string");
      if (typeof idx !== "string") {
        throw new FuncError(`value has type ${typeName(idx)}; should be string`);
      }
      item = normalize(item.entries.has(idx) ? item.entries.get(idx) : item.zero);
    } else {
      throw new FuncError(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

function len(v: Value): number {
  if (v === null) throw new FuncError("len of untyped nil");
  const n = lengthOf(v);
  if (n === undefined) throw new FuncError(`len of type ${typeName(v)}`);
  return n;
}

/** and/or: the first argument that decides, else the last one. */
function firstOrLast(args: readonly Value[], decides: (v: Value) => boolean): Value {
  const i = args.findIndex(decides);
  return arg(args, i < 0 ? args.length - 1 : i);
}

const VALUE: ParamKind = "value";

export const BUILTINS: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  // and/or short-circuit in exec.ts; these bodies only serve a direct call.
  [
    "and",
    {
      params: [VALUE],
      variadic: VALUE,
      call: (a) => firstOrLast(a, (v) => !isTrue(v)),
    },
  ],
  ["or", { params: [VALUE], variadic: VALUE, call: (a) => firstOrLast(a, isTrue) }],
  ["not", { params: [VALUE], variadic: undefined, call: (a) => !isTrue(arg(a, 0)) }],
  ["len", { params: [VALUE], variadic: undefined, call: (a) => len(arg(a, 0)) }],
  ["index", { params: [VALUE], variadic: VALUE, call: index }],
  ["print", { params: [], variadic: "any", call: (a) => sprint(a) }],
  ["println", { params: [], variadic: "any", call: (a) => sprintln(a) }],
  [
    "printf",
    {
      params: ["string"],
      variadic: "any",
      call: (a) => sprintf(arg(a, 0) as string, a.slice(1)),
    },
  ],
  ["eq", { params: [VALUE], variadic: VALUE, call: eq }],
  ["ne", { params: [VALUE, VALUE], variadic: undefined, call: (a) => !eq(a) }],
  ["lt", { params: [VALUE, VALUE], variadic: undefined, call: (a) => lt(arg(a, 0), arg(a, 1)) }],
  [
    "le",
    {
      params: [VALUE, VALUE],
      variadic: undefined,
      call: (a) => lt(arg(a, 0), arg(a, 1)) || eq(a),
    },
  ],
  [
    "gt",
    {
      params: [VALUE, VALUE],
      variadic: undefined,
      call: (a) => !(lt(arg(a, 0), arg(a, 1)) || eq(a)),
    },
  ],
  ["ge", { params: [VALUE, VALUE], variadic: undefined, call: (a) => !lt(arg(a, 0), arg(a, 1)) }],
]);
