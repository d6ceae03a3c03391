/**
 * @module harness/demo-view
 * The live views of `local demo` and `local watch`: per HPA its metric, target and replicas with a
 * small chart over time, the pods, and what to try next. Pure: state in, text out. Values in human units
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

/** The fields of an autoscaling/v2 HorizontalPodAutoscaler the views read. */
export interface HpaJson {
  metadata: { namespace: string; name: string };
  spec: {
    scaleTargetRef: { kind: string; name: string };
    minReplicas?: number;
    maxReplicas: number;
    metrics?: MetricSpecJson[];
  };
  status: {
    currentReplicas?: number;
    desiredReplicas?: number;
    currentMetrics?: MetricStatusJson[];
    conditions?: { type: string; status: string; reason: string }[];
  };
}

interface TargetJson {
  type?: string;
  averageValue?: string;
  value?: string;
  averageUtilization?: number;
}
interface CurrentJson {
  averageValue?: string;
  value?: string;
  averageUtilization?: number;
}
type SourceKey = "pods" | "external" | "object" | "resource" | "containerResource";
type MetricSpecJson = { type: string } & Partial<
  Record<SourceKey, { metric?: { name: string }; name?: string; target: TargetJson }>
>;
type MetricStatusJson = { type: string } & Partial<
  Record<SourceKey, { metric?: { name: string }; name?: string; current: CurrentJson }>
>;

function sourceKey(type: string): SourceKey {
  return (type.charAt(0).toLowerCase() + type.slice(1)) as SourceKey;
}

/** A utilization is a percentage of requests; other values are quantities. */
function valueOf(v: TargetJson | CurrentJson | undefined): string {
  if (v === undefined) return "";
  if (v.averageUtilization !== undefined) return `${String(v.averageUtilization)}%`;
  return v.averageValue ?? v.value ?? "";
}

/**
 * An HPA as the views show it: its first metric (the count of the others in `metric`), of any
 * source type (Pods, Object, External, Resource, ContainerResource).
 */
export function hpaSnapshot(h: HpaJson): HpaSnapshot {
  const spec = h.spec.metrics?.[0];
  const key = sourceKey(spec?.type ?? "");
  const src = spec?.[key];
  const name = src?.metric?.name ?? src?.name ?? spec?.type ?? "";
  const cur = h.status.currentMetrics?.find((m) => m.type === spec?.type)?.[key];
  const more = (h.spec.metrics?.length ?? 0) - 1;
  return {
    namespace: h.metadata.namespace,
    name: h.metadata.name,
    target: `${h.spec.scaleTargetRef.kind}/${h.spec.scaleTargetRef.name}`,
    metric: more > 0 ? `${name} (+${String(more)} more)` : name,
    current: valueOf(cur?.current),
    targetValue: valueOf(src?.target),
    replicas: h.status.currentReplicas ?? 0,
    desired: h.status.desiredReplicas ?? 0,
    min: h.spec.minReplicas ?? 1,
    max: h.spec.maxReplicas,
    conditions: (h.status.conditions ?? []).map((c) => `${c.type}=${c.status} ${c.reason}`),
  };
}

/** A quantity (or `N%`) as a number for the charts; 0 when it does not parse. */
export function quantityNumber(q: string): number {
  try {
    return q === "" ? 0 : q.endsWith("%") ? Number(q.slice(0, -1)) : parseQuantity(q).toNumber();
  } catch {
    return 0;
  }
}

export type History = Map<string, { value: number; replicas: number }[]>;

/** Adds one point per HPA to `history`, keeping the last `keep` points. */
export function recordHistory(history: History, snaps: readonly HpaSnapshot[], keep = 60): void {
  for (const s of snaps) {
    const key = `${s.namespace}/${s.name}`;
    const h = history.get(key) ?? [];
    h.push({ value: quantityNumber(s.current), replicas: s.replicas });
    history.set(key, h.slice(-keep));
  }
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
  if (q === "" || q.endsWith("%")) return q;
  try {
    return humanNumber(parseQuantity(q).toNumber(), isBytes(metric));
  } catch {
    return q;
  }
}

/** Per HPA: its metric against the target, replicas, conditions and the two charts. */
export function renderHpas(hpas: readonly HpaSnapshot[], history: DemoState["history"]): string[] {
  const out: string[] = [];
  for (const h of hpas) {
    const key = `${h.namespace}/${h.name}`;
    out.push(
      `HPA ${key} → ${h.target}: ${h.metric} ${humanQuantity(h.current, h.metric) || "<unknown>"} / target ${humanQuantity(h.targetValue, h.metric)}; replicas ${String(h.replicas)} (desired ${String(h.desired)}, min ${String(h.min)}, max ${String(h.max)})`,
    );
    if (h.conditions.length > 0) out.push(`  ${h.conditions.join(" · ")}`);
    const hist = history.get(key) ?? [];
    out.push(`  metric   ${sparkline(hist.map((p) => p.value))}`);
    out.push(`  replicas ${sparkline(hist.map((p) => p.replicas))}`);
    out.push("");
  }
  return out;
}

function renderPods(pods: readonly PodSnapshot[]): string[] {
  return pods.map(
    (p) =>
      `  ${`${p.namespace}/${p.name}`.padEnd(44)} ${p.phase.padEnd(8)} ${(p.ready ? "Ready" : "NotReady").padEnd(9)} ${p.ip}`,
  );
}

export function renderDemo(s: DemoState): string {
  const out: string[] = [];
  out.push(
    `k8s-custom-metrics local demo · Kubernetes ${s.kubernetesVersion} · running ${duration(s.elapsedSeconds)}`,
  );
  out.push("");
  out.push(...renderHpas(s.hpas, s.history));
  out.push("PODS");
  out.push(...renderPods(s.pods));
  out.push("");
  if (s.load) out.push(`LOAD ${s.load}`, "");
  out.push("TRY");
  for (const h of s.hints) out.push(`  ${h}`);
  out.push("", "Ctrl-C stops the demo and the local cluster.");
  return out.join("\n");
}

export interface WatchState {
  readonly kubernetesVersion: string;
  readonly elapsedSeconds: number;
  /** `describeChoice`'s line: which adapter serves, with which config. */
  readonly adapter: string;
  readonly hpas: readonly HpaSnapshot[];
  readonly history: DemoState["history"];
  /** Shown when given (`local watch --pods`). */
  readonly pods?: readonly PodSnapshot[];
}

/** `local watch`: every HPA of the cluster (or of one namespace), live. */
export function renderWatch(s: WatchState): string {
  const out: string[] = [
    `k8s-custom-metrics local watch · Kubernetes ${s.kubernetesVersion} · watching ${duration(s.elapsedSeconds)}`,
    s.adapter,
    "",
  ];
  if (s.hpas.length === 0)
    out.push("no HorizontalPodAutoscalers yet (kubectl apply -f examples/…)", "");
  out.push(...renderHpas(s.hpas, s.history));
  if (s.pods) out.push("PODS", ...renderPods(s.pods), "");
  out.push("Ctrl-C stops watching; the cluster keeps running.");
  return out.join("\n");
}
