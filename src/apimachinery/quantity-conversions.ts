/**
 * @module apimachinery/quantity-conversions
 * Quantities from the numbers metrics sources report, converted as the Go programs we replace do:
 * Go's float64 → int64, prometheus-adapter's milli-units sample conversion, metrics-server's
 * nanocores.
 */

import { Quantity } from "./quantity.ts";

const MAX_INT64 = 2n ** 63n - 1n;
const MIN_INT64 = -(2n ** 63n);
/** resource.Nano. */
const NANO = -9;

/** CPU from nanocores, as metrics-server reports it: `NewScaledQuantity(n, Nano)` → "12345n". */
export function fromNanocores(nanocores: bigint): Quantity {
  return Quantity.fromScaled(nanocores, NANO);
}

/**
 * Go's `int64(f)` for a float64: truncation toward zero. Out-of-range values saturate and NaN gives
 * 0, which is what arm64 does; amd64 returns MinInt64 for all three, so pin the arm64 reading.
 */
export function goFloatToInt64(v: number): bigint {
  if (Number.isNaN(v)) return 0n;
  if (v >= 2 ** 63) return MAX_INT64;
  if (v < -(2 ** 63)) return MIN_INT64;
  return BigInt(Math.trunc(v));
}

/**
 * prometheus-adapter's sample conversion: `resource.NewMilliQuantity(int64(v*1000), DecimalSI)`.
 *
 * @example fromFloatMilli(0.016).toString() === "16m"
 */
export function fromFloatMilli(v: number): Quantity {
  return Quantity.fromMilli(goFloatToInt64(v * 1000), "DecimalSI");
}
