/**
 * @module apimachinery/quantity
 * Kubernetes resource.Quantity, ported from apimachinery `pkg/api/resource/quantity.go`.
 * The value is exact: a BigInt mantissa times a power of ten (binary suffixes are exact decimals
 * too). Parsing, canonical `String()`, rounding and the int64 conversions follow Go, because the
 * HPA reads our values with `MilliValue()` and clients diff the strings we emit.
 */

export type QuantityFormat = "DecimalExponent" | "BinarySI" | "DecimalSI";

export class QuantityError extends Error {
  override readonly name = "QuantityError";
}

const SPLIT_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";
/** Upstream error texts (ErrFormatWrong, ErrNumeric, ErrSuffix). */
export const QUANTITY_ERRORS = {
  formatWrong: `quantities must match the regular expression '${SPLIT_RE}'`,
  numeric: "unable to parse numeric part of quantity",
  suffix: "unable to parse quantity's suffix",
} as const;

const MAX_INT64 = 2n ** 63n - 1n;
const MIN_INT64 = -(2n ** 63n);
/** Guard against "1e999999999" building a gigantic BigInt; Go keeps the exponent symbolic. */
const MAX_EXPONENT = 100_000;
const NANO = -9;

const DECIMAL_SUFFIXES: ReadonlyMap<string, number> = new Map([
  ["n", -9],
  ["u", -6],
  ["m", -3],
  ["", 0],
  ["k", 3],
  ["M", 6],
  ["G", 9],
  ["T", 12],
  ["P", 15],
  ["E", 18],
]);
const DECIMAL_BY_EXPONENT: ReadonlyMap<number, string> = new Map(
  [...DECIMAL_SUFFIXES].map(([s, e]) => [e, s]),
);
const BINARY_SUFFIXES: ReadonlyMap<string, number> = new Map([
  ["Ki", 10],
  ["Mi", 20],
  ["Gi", 30],
  ["Ti", 40],
  ["Pi", 50],
  ["Ei", 60],
]);
const BINARY_BY_POWER = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"] as const;

/** 10^0 … 10^63, computed once: formatting a Quantity asks for a few small powers each time. */
const POW10: readonly bigint[] = Array.from({ length: 64 }, (_, i) => 10n ** BigInt(i));

function pow10(n: number): bigint {
  return POW10[n] ?? 10n ** BigInt(n);
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/** Divide by 10^k, rounding away from zero (Go's negativeScaleInt64 / inf.RoundUp). */
function divPow10AwayFromZero(m: bigint, k: number): bigint {
  if (k <= 0) return m * pow10(-k);
  if (m === 0n) return 0n;
  const magnitude = abs(m);
  // Cheap exit for huge k: 0 < |m| < 10^k always rounds to ±1.
  if (magnitude.toString().length <= k && k > 30) return m < 0n ? -1n : 1n;
  const d = pow10(k);
  let q = magnitude / d;
  if (magnitude % d !== 0n) q += 1n;
  return m < 0n ? -q : q;
}

interface SuffixInfo {
  readonly base: 2 | 10;
  readonly exponent: number;
  readonly format: QuantityFormat;
}

/** suffixer.interpret: decimal table, binary table, then `e`/`E` + integer. */
function interpretSuffix(suffix: string): SuffixInfo | undefined {
  const dec = DECIMAL_SUFFIXES.get(suffix);
  if (dec !== undefined) return { base: 10, exponent: dec, format: "DecimalSI" };
  const bin = BINARY_SUFFIXES.get(suffix);
  if (bin !== undefined) return { base: 2, exponent: bin, format: "BinarySI" };
  if (suffix.length > 1 && (suffix[0] === "e" || suffix[0] === "E")) {
    const rest = suffix.slice(1);
    if (!/^[+-]?[0-9]+$/.test(rest)) return undefined;
    const parsed = BigInt(rest);
    if (parsed < MIN_INT64 || parsed > MAX_INT64) return undefined;
    // Go stores the exponent as int32(parsed): wrap like it does.
    const wrapped = Number(BigInt.asIntN(32, parsed));
    return { base: 10, exponent: wrapped, format: "DecimalExponent" };
  }
  return undefined;
}

interface ScannedQuantity {
  readonly positive: boolean;
  /** Integer digits without leading zeros ("0" when none). */
  readonly num: string;
  readonly denom: string;
  readonly suffix: string;
  /** Whether the number part held any digit at all (inf.Dec rejects "." alone). */
  readonly hasDigits: boolean;
}

const SUFFIX_CHARS = "eEinumkKMGTP";

/** parseQuantityString: a fast scanner, permissive by design; the suffix is checked afterwards. */
function scanQuantity(str: string): ScannedQuantity {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (str[0] === "-") {
    positive = false;
    pos++;
  } else if (str[0] === "+") pos++;
  const numberStart = pos;
  while (pos < end && str[pos] === "0") pos++;
  if (pos >= end) {
    return { positive, num: "0", denom: "", suffix: "", hasDigits: pos > numberStart };
  }
  const numStart = pos;
  while (pos < end && isDigit(str[pos])) pos++;
  const num = str.slice(numStart, pos) || "0";
  let denom = "";
  if (pos < end && str[pos] === ".") {
    pos++;
    const denomStart = pos;
    while (pos < end && isDigit(str[pos])) pos++;
    denom = str.slice(denomStart, pos);
  }
  const hasDigits = /[0-9]/.test(str.slice(numberStart, pos));
  const suffixStart = pos;
  while (pos < end && SUFFIX_CHARS.includes(str[pos] ?? " ")) pos++;
  if (pos < end && (str[pos] === "-" || str[pos] === "+")) pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos < end) throw new QuantityError(QUANTITY_ERRORS.formatWrong);
  return { positive, num, denom, suffix: str.slice(suffixStart), hasDigits };
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= "0" && ch <= "9";
}

/**
 * An exact quantity: `mantissa × 10^exponent`, plus the format it prints in. Immutable; arithmetic
 * returns new values.
 */
export class Quantity {
  readonly mantissa: bigint;
  readonly exponent: number;
  readonly format: QuantityFormat;
  /** Upstream reuses the parsed text when it was already canonical (quirks such as "+5" included). */
  readonly #cached: string | undefined;

  constructor(mantissa: bigint, exponent: number, format: QuantityFormat, cached?: string) {
    this.mantissa = mantissa;
    this.exponent = exponent;
    this.format = format;
    this.#cached = cached;
  }

  /**
   * resource.ParseQuantity. Throws QuantityError with upstream's messages.
   *
   * @example Quantity.parse("1.5Gi").toString() === "1536Mi"
   */
  static parse(str: string): Quantity {
    if (str.length === 0) throw new QuantityError(QUANTITY_ERRORS.formatWrong);
    if (str === "0") return new Quantity(0n, 0, "DecimalSI", "0");
    const scanned = scanQuantity(str);
    const info = interpretSuffix(scanned.suffix);
    if (!info) throw new QuantityError(QUANTITY_ERRORS.suffix);
    if (info.exponent > MAX_EXPONENT) {
      throw new QuantityError(`${QUANTITY_ERRORS.numeric}: exponent too large`);
    }
    const { positive, num, denom } = scanned;
    const fast = fastPath(str, scanned, info);
    if (fast) return fast;
    if (!scanned.hasDigits) throw new QuantityError(QUANTITY_ERRORS.numeric);

    let mantissa = BigInt(num + denom);
    let exponent = -denom.length;
    if (info.base === 10) exponent += info.exponent;
    else mantissa *= 2n ** BigInt(info.exponent);
    let format = info.format;
    // Keep only nano precision, rounding a finer non-zero value away from zero ("0.9n" is "1n").
    if (mantissa !== 0n && exponent < NANO) {
      mantissa = divPow10AwayFromZero(mantissa, NANO - exponent);
      exponent = NANO;
    }
    if (format === "BinarySI") {
      const q = new Quantity(mantissa, exponent, format);
      // Binary quantities are silently capped at 2^63-1 ("9Ei" parses as MaxInt64).
      if (q.cmp(new Quantity(MAX_INT64, 0, format)) > 0) {
        mantissa = MAX_INT64;
        exponent = 0;
      }
      if (mantissa !== 0n && q.cmp(new Quantity(1n, 0, format)) < 0) format = "DecimalSI";
    }
    return new Quantity(positive ? mantissa : -mantissa, exponent, format);
  }

  /** resource.NewQuantity. */
  static fromInt(value: bigint, format: QuantityFormat = "DecimalSI"): Quantity {
    return new Quantity(value, 0, format);
  }

  /** resource.NewMilliQuantity. */
  static fromMilli(milli: bigint, format: QuantityFormat = "DecimalSI"): Quantity {
    return new Quantity(milli, -3, format);
  }

  /** resource.NewScaledQuantity: `value × 10^scale`, DecimalSI. */
  static fromScaled(value: bigint, scale: number): Quantity {
    return new Quantity(value, scale, "DecimalSI");
  }

  sign(): -1 | 0 | 1 {
    return this.mantissa > 0n ? 1 : this.mantissa < 0n ? -1 : 0;
  }

  isZero(): boolean {
    return this.mantissa === 0n;
  }

  /** Compare values (formats ignored): -1, 0 or 1. */
  cmp(other: Quantity): -1 | 0 | 1 {
    const [a, b] = align(this, other);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  equals(other: Quantity): boolean {
    return this.cmp(other) === 0;
  }

  /** Quantity.Add: a zero receiver takes the other's format. */
  add(other: Quantity): Quantity {
    const exponent = Math.min(this.exponent, other.exponent);
    const [a, b] = align(this, other);
    return new Quantity(a + b, exponent, this.isZero() ? other.format : this.format);
  }

  /** Quantity.Sub: a zero receiver takes the other's format. */
  sub(other: Quantity): Quantity {
    return this.add(other.neg());
  }

  neg(): Quantity {
    return new Quantity(-this.mantissa, this.exponent, this.format);
  }

  withFormat(format: QuantityFormat): Quantity {
    return new Quantity(this.mantissa, this.exponent, format);
  }

  /**
   * Quantity.ScaledValue: `q / 10^scale` rounded away from zero (ceil for positive values). Exact
   * BigInt, where Go would silently overflow int64.
   */
  scaledValue(scale: number): bigint {
    return divPow10AwayFromZero(this.mantissa, scale - this.exponent);
  }

  /** Quantity.Value: rounded up to an integer. */
  value(): bigint {
    return this.scaledValue(0);
  }

  /** Quantity.MilliValue: ceil(q × 1000), so "0.0001" gives 1 like the HPA sees it. */
  milliValue(): bigint {
    return this.scaledValue(-3);
  }

  /** Quantity.AsApproximateFloat64. */
  toNumber(): number {
    return Number(this.mantissa) * 10 ** this.exponent;
  }

  /** Quantity.String(): the canonical form (see CanonicalizeBytes). */
  toString(): string {
    if (this.#cached !== undefined) return this.#cached;
    if (this.mantissa === 0n) return "0";
    let format = this.format;
    let integer: bigint | undefined;
    if (format === "BinarySI") {
      const magnitude = this.#absBelow(1024n);
      integer = this.exponent >= 0 ? this.mantissa * pow10(this.exponent) : undefined;
      if (integer === undefined && this.mantissa % pow10(-this.exponent) === 0n) {
        integer = this.mantissa / pow10(-this.exponent);
      }
      // Small or fractional binary values print as DecimalSI to avoid rounding.
      if (magnitude || integer === undefined) format = "DecimalSI";
    }
    if (format === "BinarySI" && integer !== undefined) {
      let power = 0;
      // Stop at Ei; Go has no larger binary suffix.
      while (power < 6 && integer % 1024n === 0n) {
        integer /= 1024n;
        power++;
      }
      return `${integer.toString()}${BINARY_BY_POWER[power] ?? ""}`;
    }
    let m = this.mantissa;
    let e = this.exponent;
    while (m % 10n === 0n) {
      m /= 10n;
      e++;
    }
    while (e % 3 !== 0) {
      m *= 10n;
      e--;
    }
    const number = m.toString();
    if (format === "DecimalSI") {
      const suffix = DECIMAL_BY_EXPONENT.get(e);
      // Beyond E (or below n) DecimalSI has no suffix: upstream falls back to exponent notation.
      if (suffix !== undefined) return number + suffix;
    }
    return e === 0 ? number : `${number}e${e}`;
  }

  /** encoding/json form: the canonical string. */
  toJSON(): string {
    return this.toString();
  }

  /** |q| < n, for an integer n > 0. */
  #absBelow(n: bigint): boolean {
    const m = abs(this.mantissa);
    return this.exponent >= 0 ? m * pow10(this.exponent) < n : m < n * pow10(-this.exponent);
  }
}

/** Both mantissas at the smaller exponent. */
function align(x: Quantity, y: Quantity): [bigint, bigint] {
  const e = Math.min(x.exponent, y.exponent);
  return [x.mantissa * pow10(x.exponent - e), y.mantissa * pow10(y.exponent - e)];
}

/**
 * ParseQuantity's int64 fast path. It changes no value (its inputs need no rounding), but decides
 * whether Go keeps the input text as the cached canonical string.
 */
function fastPath(str: string, scanned: ScannedQuantity, info: SuffixInfo): Quantity | undefined {
  const { num, denom, positive } = scanned;
  let precision: number;
  let scale = 0;
  let multiplier = 1n;
  if (info.format === "BinarySI") {
    if (denom.length !== 0) return undefined;
    multiplier = 2n ** BigInt(info.exponent);
    precision = 15 - num.length - Math.trunc((info.exponent * 3) / 10) - 1;
  } else {
    scale = info.exponent;
    precision = 18 - (num.length + denom.length);
  }
  if (precision < 0) return undefined;
  scale -= denom.length;
  if (scale < NANO) return undefined;
  const shifted = num + denom;
  const product = BigInt(shifted) * multiplier;
  if (product > MAX_INT64) return undefined;
  const mantissa = positive ? product : -product;
  let cached: string | undefined;
  if (info.format === "BinarySI") {
    if (info.exponent % 10 === 0 && (BigInt(shifted) & 7n) !== 0n) cached = str;
    return new Quantity(mantissa, 0, info.format, cached);
  }
  if (scale % 3 === 0 && !shifted.endsWith("000") && !shifted.startsWith("0")) cached = str;
  return new Quantity(mantissa, scale, info.format, cached);
}

/** resource.ParseQuantity. */
export function parseQuantity(str: string): Quantity {
  return Quantity.parse(str);
}

/** resource.NewMilliQuantity(milli, format). */
export function newMilliQuantity(milli: bigint, format: QuantityFormat = "DecimalSI"): Quantity {
  return Quantity.fromMilli(milli, format);
}

/** resource.NewScaledQuantity(value, scale). */
export function newScaledQuantity(value: bigint, scale: number): Quantity {
  return Quantity.fromScaled(value, scale);
}
