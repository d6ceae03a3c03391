/**
 * @module harness/demo-view
 * The live view of `local demo`: per HPA its metric, target and replicas with a small chart over
 * time, the pods, and what to try next. Pure: state in, text out. Values in human units
 * (`10.4Mi` for byte metrics, `4.95`), not the API's raw quantities (`10901504`, `4950m`).
 */
import { parseQuantity } from "../apimachinery/quantity.ts";
import { humanNumber, isBytes } from "../compare/units.ts";

export interface HpaSnapshot {
  readonly namespace: string;
  readonly name: string;
  readonly target: string;
  readonly metric: string;
  readonly current: string;
  readonly targetValue: string;
  readonly replicas: number;
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  readonly conditions: readonly string[];
}

export interface PodSnapshot {
  readonly namespace: string;
  readonly name: string;
  readonly phase: string;
  readonly ready: boolean;
  readonly ip: string;
}

export interface DemoState {
  readonly kubernetesVersion: string;
  readonly elapsedSeconds: number;
  readonly hpas: readonly HpaSnapshot[];
  /** Per HPA key (`ns/name`), the metric value and replica count over time. */
  readonly history: ReadonlyMap<string, readonly { value: number; replicas: number }[]>;
  readonly pods: readonly PodSnapshot[];
  readonly hints: readonly string[];
  readonly load: string;
}

const BARS = "▁▂▃▄▅▆▇█";

/** One character per point, scaled between the series' min and max. */
export function sparkline(values: readonly number[], width = 40): string {
  const v = values.slice(-width);
  if (v.length === 0) return "";
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return v
    .map((x) =>
      hi === lo ? BARS[0] : BARS[Math.round(((x - lo) / (hi - lo)) * (BARS.length - 1))],
    )
    .join("");
}

function duration(s: number): string {
  const m = Math.floor(s / 60);
  return m > 0
    ? `${String(m)}m${String(Math.floor(s % 60)).padStart(2, "0")}s`
    : `${String(Math.floor(s))}s`;
}

/** A quantity string for people; left as it is when it does not parse. */
export function humanQuantity(q: string, metric: string): string {
  if (q === "") return q;
  try {
    return humanNumber(parseQuantity(q).toNumber(), isBytes(metric));
  } catch {
    return q;
  }
}

export function renderDemo(s: DemoState): string {
  const out: string[] = [];
  out.push(
    `k8s-custom-metrics local demo · Kubernetes ${s.kubernetesVersion} · running ${duration(s.elapsedSeconds)}`,
  );
  out.push("");
  for (const h of s.hpas) {
    const key = `${h.namespace}/${h.name}`;
    out.push(
      `HPA ${key} → ${h.target}: ${h.metric} ${humanQuantity(h.current, h.metric) || "<unknown>"} / target ${humanQuantity(h.targetValue, h.metric)}; replicas ${String(h.replicas)} (desired ${String(h.desired)}, min ${String(h.min)}, max ${String(h.max)})`,
    );
    if (h.conditions.length > 0) out.push(`  ${h.conditions.join(" · ")}`);
    const hist = s.history.get(key) ?? [];
    out.push(`  metric   ${sparkline(hist.map((p) => p.value))}`);
    out.push(`  replicas ${sparkline(hist.map((p) => p.replicas))}`);
    out.push("");
  }
  out.push("PODS");
  for (const p of s.pods) {
    out.push(
      `  ${`${p.namespace}/${p.name}`.padEnd(44)} ${p.phase.padEnd(8)} ${(p.ready ? "Ready" : "NotReady").padEnd(9)} ${p.ip}`,
    );
  }
  out.push("");
  if (s.load) out.push(`LOAD ${s.load}`, "");
  out.push("TRY");
  for (const h of s.hints) out.push(`  ${h}`);
  out.push("", "Ctrl-C stops the demo and the local cluster.");
  return out.join("\n");
}
