/**
 * @module apimachinery/go-duration
 * Go's time.ParseDuration, for flags such as `--metrics-relist-interval=10m` or `1m30s`
 * (sign, decimal fractions, units ns us µs ms s m h; "0" alone is allowed).
 */

const UNITS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds, or throws with Go's message. */
export function parseGoDuration(text: string): number {
  const bad = () => new Error(`time: invalid duration ${JSON.stringify(text)}`);
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s.startsWith("-")) sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw bad();
  let total = 0;
  const re = /^(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m || m[1] === "" || m[1] === ".") throw bad();
    total += Number(m[1]) * (UNITS[m[2] ?? ""] ?? NaN);
    s = s.slice(m[0].length);
  }
  return sign * total;
}
