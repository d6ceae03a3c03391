/**
 * @module template/values
 * The Go value model the template engine works on. Plain JS data is read as Go would see the
 * equivalent `interface{}` data (objects are `map[string]interface {}`, arrays are slices, whole
 * numbers are `int`); wrappers declare what JS cannot say on its own: a struct (unknown fields
 * are an error, not `<no value>`), a typed map (its zero value for a missing key), a float64.
 */

/** A float64. JS numbers with a fraction are floats anyway; wrap whole numbers that must stay floats. */
export class GoFloat {
  readonly value: number;

  constructor(value: number) {
    this.value = value;
  }
}

/** A Go struct: fixed, ordered fields; `.Unknown` is an execution error as in Go. */
export class GoStruct {
  readonly typeName: string;
  readonly fields: ReadonlyMap<string, unknown>;

  constructor(typeName: string, fields: ReadonlyMap<string, unknown>) {
    this.typeName = typeName;
    this.fields = fields;
  }
}

/** A Go map with string keys. `zero` is what `index` gives for a missing key (Go's elem zero). */
export class GoMap {
  readonly typeName: string;
  readonly entries: ReadonlyMap<string, unknown>;
  readonly zero: unknown;

  constructor(typeName: string, entries: ReadonlyMap<string, unknown>, zero: unknown) {
    this.typeName = typeName;
    this.entries = entries;
    this.zero = zero;
  }
}

/** Declares a struct value, e.g. `goStruct("naming.queryTemplateArgs", {Series: "up"})`. */
export function goStruct(typeName: string, fields: Readonly<Record<string, unknown>>): GoStruct {
  return new GoStruct(typeName, new Map(Object.entries(fields)));
}

/** Declares a `map[string]string`: a missing key indexes to "". */
export function goStringMap(
  entries: Readonly<Record<string, string>> | ReadonlyMap<string, string>,
): GoMap {
  const map = entries instanceof Map ? new Map(entries) : new Map(Object.entries(entries));
  return new GoMap("map[string]string", map, "");
}

export function goFloat(value: number): GoFloat {
  return new GoFloat(value);
}

/**
 * A normalized value. `null` stands for Go's invalid value and nil interface alike: the template
 * package turns both into the same thing once a pipeline stage ends (exec.go `evalPipeline`).
 */
export type Value =
  null | string | boolean | number | GoFloat | readonly unknown[] | GoMap | GoStruct | Unsupported;

/** A JS value with no Go counterpart (function, symbol, ...): printable, never indexable. */
export class Unsupported {
  readonly raw: unknown;

  constructor(raw: unknown) {
    this.raw = raw;
  }
}

export type Kind =
  "invalid" | "string" | "bool" | "int" | "float" | "slice" | "map" | "struct" | "unsupported";

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Reads any JS value as a template value. */
export function normalize(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return Number.isInteger(v) ? v : new GoFloat(v);
  if (typeof v === "bigint") return Number(v);
  if (typeof v !== "object") return new Unsupported(v);
  if (Array.isArray(v)) return v as readonly unknown[];
  if (v instanceof GoFloat || v instanceof GoMap || v instanceof GoStruct) return v;
  if (v instanceof Unsupported) return v;
  if (v instanceof Map) {
    const entries = new Map<string, unknown>();
    for (const [k, val] of v as Map<unknown, unknown>) {
      if (typeof k === "string") entries.set(k, val);
    }
    return new GoMap("map[string]interface {}", entries, null);
  }
  if (isPlainObject(v)) {
    return new GoMap("map[string]interface {}", new Map(Object.entries(v)), null);
  }
  return new Unsupported(v);
}

export function kindOf(v: Value): Kind {
  if (v === null) return "invalid";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return "int";
  if (v instanceof GoFloat) return "float";
  if (v instanceof GoMap) return "map";
  if (v instanceof GoStruct) return "struct";
  if (v instanceof Unsupported) return "unsupported";
  return "slice";
}

/** Go's name for the value's type, for error messages and `%!verb(type=value)`. */
export function typeName(v: Value): string {
  const kind = kindOf(v);
  switch (kind) {
    case "invalid":
      return "<nil>";
    case "string":
    case "bool":
    case "int":
      return kind;
    case "float":
      return "float64";
    case "map":
      return (v as GoMap).typeName;
    case "struct":
      return (v as GoStruct).typeName;
    case "unsupported":
      return typeof (v as Unsupported).raw;
    case "slice":
      return sliceTypeName(v as readonly unknown[]);
  }
}

function sliceTypeName(items: readonly unknown[]): string {
  if (items.length === 0) return "[]interface {}";
  const names = new Set(items.map((item) => typeName(normalize(item))));
  const [only] = names;
  return names.size === 1 && only !== "<nil>" && only !== undefined
    ? `[]${only}`
    : "[]interface {}";
}

/** Length for `len` and truth; undefined when the kind has none. */
export function lengthOf(v: Value): number | undefined {
  switch (kindOf(v)) {
    case "string":
      // Go counts bytes, not UTF-16 units.
      return Buffer.byteLength(v as string, "utf8");
    case "slice":
      return (v as readonly unknown[]).length;
    case "map":
      return (v as GoMap).entries.size;
    case "invalid":
    case "bool":
    case "int":
    case "float":
    case "struct":
    case "unsupported":
      return undefined;
  }
}

/** Go's `isTrue` (exec.go): the zero value of any type is false; structs are always true. */
export function isTrue(v: Value): boolean {
  switch (kindOf(v)) {
    case "invalid":
      return false;
    case "string":
    case "slice":
    case "map":
      return (lengthOf(v) ?? 0) > 0;
    case "bool":
      return v as boolean;
    case "int":
      return v !== 0;
    case "float":
      return (v as GoFloat).value !== 0;
    case "struct":
    case "unsupported":
      return true;
  }
}
