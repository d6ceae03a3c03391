/**
 * @module compare/units
 * Numbers for people: three significant digits with a unit suffix (`10.4Mi`, `4.95`, `250m`,
 * `1.2k`). Binary suffixes for byte counts, decimal (SI, as Kubernetes quantities) otherwise.
 */

const DECIMAL = ["", "k", "M", "G", "T", "P", "E"] as const;
const BINARY = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"] as const;

function sig3(x: number): string {
  return String(Number(x.toPrecision(3)));
}

/** Whether a metric counts bytes, by its name (`memory_usage_bytes`, resource `memory`). */
export function isBytes(metric: string): boolean {
  return /bytes|memory/i.test(metric);
}

export function humanNumber(v: number, bytes = false): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const abs = Math.abs(v);
  const base = bytes ? 1024 : 1000;
  const units = bytes ? BINARY : DECIMAL;
  if (abs >= base) {
    let i = Math.min(Math.floor(Math.log(abs) / Math.log(base)), units.length - 1);
    let x = v / base ** i;
    // 999.7k rounds to 1000k: move to the next unit instead.
    if (Math.abs(Number(x.toPrecision(3))) >= base && i < units.length - 1) {
      i++;
      x = v / base ** i;
    }
    return `${sig3(x)}${units[i] ?? ""}`;
  }
  if (abs >= 1) return sig3(v);
  if (abs >= 0.001) return `${sig3(v * 1000)}m`;
  return sig3(v);
}

/** A milli-unit integer (as the HPA reads quantities) for people. */
export function humanMilli(milli: number, bytes = false): string {
  return humanNumber(milli / 1000, bytes);
}
