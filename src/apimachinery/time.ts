/**
 * @module apimachinery/time
 * Time and duration text as Go writes it: metav1.Time (RFC 3339, UTC, whole seconds) and
 * Go's `time.Duration.String()` (metrics.k8s.io `window: "5m0s"`). Prometheus durations are in
 * config/duration.ts.
 */

/** The last second {@link formatRfc3339} formatted, and its text. */
let lastSecond = Number.NaN;
let lastText = "";

/**
 * metav1.Time JSON: `t.UTC().Format(time.RFC3339)`, which drops sub-second digits.
 *
 * @example formatRfc3339(Date.UTC(2026, 10, 28, 1, 2, 3, 999)) === "2026-11-28T01:02:03Z"
 */
export function formatRfc3339(time: Date | number): string {
  const ms = typeof time === "number" ? time : time.getTime();
  if (Number.isNaN(ms)) throw new RangeError("invalid time");
  // Every item of a list answer carries the same second: format each second once.
  const second = Math.floor(ms / 1000);
  if (second === lastSecond) return lastText;
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`year ${year} is outside RFC 3339`);
  // toISOString is `YYYY-MM-DDTHH:mm:ss.sssZ` for years 0…9999.
  lastText = `${date.toISOString().slice(0, 19)}Z`;
  lastSecond = second;
  return lastText;
}

const RFC3339_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** time.Parse(time.RFC3339, s) into epoch milliseconds (fractions beyond ms are truncated). */
export function parseRfc3339(s: string): number {
  const m = RFC3339_RE.exec(s);
  if (!m) throw new RangeError(`cannot parse ${JSON.stringify(s)} as RFC 3339`);
  const [, y, mo, d, h, mi, sec, frac, zone, sign, zh, zm] = m;
  const ms = frac ? Math.trunc(Number(`0${frac}`) * 1000) : 0;
  const month = Number(mo) - 1;
  const utc = Date.UTC(Number(y), month, Number(d), Number(h), Number(mi), Number(sec), ms);
  const check = new Date(utc);
  if (
    check.getUTCMonth() !== month ||
    check.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(sec) > 59
  ) {
    throw new RangeError(`cannot parse ${JSON.stringify(s)} as RFC 3339: value out of range`);
  }
  if (zone === "Z" || zone === "z") return utc;
  const offset = (Number(zh) * 60 + Number(zm)) * 60_000;
  return sign === "+" ? utc - offset : utc + offset;
}

// --- Go time.Duration.String() --------------------------------------------------------------

const NS_PER_US = 1_000n;
const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

/** fmtFrac: `v / 10^prec` as ".123", trailing zeros (and a bare dot) dropped. */
function fraction(v: bigint, prec: number): { text: string; rest: bigint } {
  let digits = "";
  let print = false;
  let rest = v;
  for (let i = 0; i < prec; i++) {
    const digit = rest % 10n;
    print ||= digit !== 0n;
    if (print) digits = digit.toString() + digits;
    rest /= 10n;
  }
  return { text: print ? `.${digits}` : "", rest };
}

/**
 * Go's `time.Duration.String()` for a count of nanoseconds: "0s", "1.5µs", "500ms", "30s",
 * "1m30s", "5m0s", "1h0m0s".
 */
export function formatGoDuration(nanoseconds: bigint): string {
  const negative = nanoseconds < 0n;
  const u = negative ? -nanoseconds : nanoseconds;
  let out: string;
  if (u < NS_PER_S) {
    if (u === 0n) return "0s";
    let prec: number;
    let unit: string;
    if (u < NS_PER_US) {
      prec = 0;
      unit = "ns";
    } else if (u < NS_PER_MS) {
      prec = 3;
      unit = "µs";
    } else {
      prec = 6;
      unit = "ms";
    }
    const { text, rest } = fraction(u, prec);
    out = `${rest.toString()}${text}${unit}`;
  } else {
    const { text, rest } = fraction(u, 9);
    out = `${(rest % 60n).toString()}${text}s`;
    const minutes = rest / 60n;
    if (minutes > 0n) {
      out = `${(minutes % 60n).toString()}m${out}`;
      const hours = minutes / 60n;
      if (hours > 0n) out = `${hours.toString()}h${out}`;
    }
  }
  return negative ? `-${out}` : out;
}

/** formatGoDuration for whole or fractional seconds (rounded to the nanosecond). */
export function formatGoDurationSeconds(seconds: number): string {
  return formatGoDuration(BigInt(Math.round(seconds * 1e9)));
}
