/**
 * @module config/duration
 * Prometheus durations (`5m`, `1h30m`, `0`), as prometheus/common `model.Duration` parses and
 * prints them; `resourceRules.window` and the default config's rate interval use this form.
 */

const UNITS: readonly (readonly [string, number])[] = [
  ["y", 365 * 24 * 60 * 60 * 1000],
  ["w", 7 * 24 * 60 * 60 * 1000],
  ["d", 24 * 60 * 60 * 1000],
  ["h", 60 * 60 * 1000],
  ["m", 60 * 1000],
  ["s", 1000],
  ["ms", 1],
];

const MAX_GO_DURATION_NS = 2n ** 63n - 1n;

const DURATION_RE =
  /^(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$/;

/** Milliseconds for a Prometheus duration; throws with upstream's wording when invalid. */
export function parsePromDuration(text: string): number {
  if (text === "") throw new Error("empty duration string");
  if (text === "0") return 0;
  const m = DURATION_RE.exec(text);
  if (m === null) throw new Error(`not a valid duration string: ${JSON.stringify(text)}`);
  // Summed in BigInt nanoseconds: model.Duration is a Go time.Duration (int64 ns), so anything
  // past ~292 years is out of range there (prometheus/common model/time.go), and must be here.
  let ns = 0n;
  UNITS.forEach(([, mult], k) => {
    const v = m[k + 1];
    if (v !== undefined) ns += BigInt(v) * BigInt(mult) * 1_000_000n;
  });
  if (ns > MAX_GO_DURATION_NS) throw new Error(`duration out of range: ${JSON.stringify(text)}`);
  return Number(ns / 1_000_000n);
}

/**
 * `model.Duration.String()`: largest units first; years and weeks only when they divide evenly
 * (so 90 days prints as `90d`, not `12w6d`).
 */
export function formatPromDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`invalid duration ${String(ms)}ms`);
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const [unit, mult] of UNITS) {
    const exact = unit === "y" || unit === "w";
    if (exact && rest % mult !== 0) continue;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      out += `${String(v)}${unit}`;
      rest -= v * mult;
    }
  }
  return out;
}
