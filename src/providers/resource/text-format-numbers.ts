/**
 * @module providers/resource/text-format-numbers
 * The text format's numbers read from the body's bytes, without building strings: sample values
 * (Go's ParseFloat subset the format allows, exact) and millisecond timestamps.
 */

const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/** 10^0 … 10^22: exact as doubles, so m × 10^k and m / 10^k round once (Clinger's fast path). */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${String(k)}`));
const MAX_EXACT = 2 ** 53;

const latin1 = (b: Buffer, start: number, end: number) => b.toString("latin1", start, end);
const utf8 = (b: Buffer, start: number, end: number) => b.toString("utf8", start, end);

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/**
 * A sample value, `bytes[start, end)`: Go's ParseFloat subset the format allows
 * (`[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?`, `NaN`, `+Inf`, `Inf`, `-Inf`). Exact: up to 2^53
 * of digits and a power of ten up to 22 are computed from the bytes; anything else goes through
 * Number() on the text.
 */
export function parseValue(b: Buffer, start: number, end: number): number {
  let i = start;
  let neg = false;
  const first = b[i];
  if (first === PLUS || first === MINUS) {
    neg = first === MINUS;
    i++;
  }
  let m = 0;
  let exact = true;
  let digits = 0;
  let fraction = 0;
  while (i < end && isDigit(b[i] ?? 0)) {
    m = m * 10 + ((b[i] ?? 0) - ZERO);
    digits++;
    i++;
  }
  let dot = false;
  if (i < end && b[i] === DOT) {
    dot = true;
    i++;
    while (i < end && isDigit(b[i] ?? 0)) {
      m = m * 10 + ((b[i] ?? 0) - ZERO);
      fraction++;
      i++;
    }
  }
  let valid = digits > 0 || (dot && fraction > 0);
  let exp = 0;
  if (valid && i < end && (b[i] === LOWER_E || b[i] === UPPER_E)) {
    i++;
    let expNeg = false;
    if (b[i] === PLUS || b[i] === MINUS) {
      expNeg = b[i] === MINUS;
      i++;
    }
    let expDigits = 0;
    while (i < end && isDigit(b[i] ?? 0)) {
      exp = exp * 10 + ((b[i] ?? 0) - ZERO);
      expDigits++;
      i++;
    }
    if (expDigits === 0) valid = false;
    if (expDigits > 4) exact = false;
    if (expNeg) exp = -exp;
  }
  if (!valid || i !== end) {
    const text = latin1(b, start, end);
    switch (text) {
      case "NaN":
        return NaN;
      case "+Inf":
      case "Inf":
        return Infinity;
      case "-Inf":
        return -Infinity;
    }
    throw new Error(`invalid value ${JSON.stringify(utf8(b, start, end))}`);
  }
  const e10 = exp - fraction;
  if (!exact || m > MAX_EXACT || e10 > 22 || e10 < -22) return Number(latin1(b, start, end));
  const v = e10 >= 0 ? m * (POW10[e10] ?? 1) : m / (POW10[-e10] ?? 1);
  return neg ? -v : v;
}

/** A timestamp, `bytes[start, end)`: `-?\d+`, in milliseconds. */
export function parseTimestamp(b: Buffer, start: number, end: number): number {
  let i = start;
  const neg = b[i] === MINUS;
  if (neg) i++;
  if (i === end) throw new Error(`invalid timestamp ${JSON.stringify(utf8(b, start, end))}`);
  let v = 0;
  for (; i < end; i++) {
    const c = b[i] ?? 0;
    if (!isDigit(c)) throw new Error(`invalid timestamp ${JSON.stringify(utf8(b, start, end))}`);
    v = v * 10 + (c - ZERO);
  }
  if (end - start > 15) v = Number(latin1(b, start, end));
  return neg ? -v : v;
}
