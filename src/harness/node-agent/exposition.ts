/**
 * @module harness/node-agent/exposition
 * The node agent's kubelet-style metrics in Prometheus text format: `/metrics/cadvisor` (what
 * Prometheus scrapes) and `/metrics/resource` (what metrics-server scrapes).
 */
import { nodeUsage, treeUsage, type Usage } from "./proc-stats.ts";

export interface ContainerSample {
  readonly namespace: string;
  readonly pod: string;
  readonly podUid: string;
  readonly container: string;
  readonly image: string;
  readonly pid: number;
  readonly startedAt: number;
}

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length > 0 ? `{${parts.join(",")}}` : "";
}

function family(out: string[], name: string, type: string, help: string): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
}

function usages(containers: readonly ContainerSample[]): Map<number, Usage> {
  return treeUsage(containers.map((c) => c.pid));
}

export function cadvisorText(containers: readonly ContainerSample[]): string {
  const use = usages(containers);
  const node = nodeUsage();
  const out: string[] = [];
  const rows = (value: (u: Usage) => number) => {
    out.push(`${labels({ id: "/" })} ${value(node)}`);
    for (const c of containers) {
      const u = use.get(c.pid);
      if (!u) continue;
      const l = labels({
        container: c.container,
        id: `/kubepods/pod${c.podUid}/${c.container}`,
        image: c.image,
        name: `${c.namespace}_${c.pod}_${c.container}`,
        namespace: c.namespace,
        pod: c.pod,
      });
      out.push(`${l} ${value(u)}`);
    }
  };
  const metric = (name: string, type: string, help: string, value: (u: Usage) => number) => {
    family(out, name, type, help);
    const start = out.length;
    rows(value);
    for (let i = start; i < out.length; i++) out[i] = name + (out[i] ?? "");
  };
  metric(
    "container_cpu_usage_seconds_total",
    "counter",
    "Cumulative cpu time consumed in seconds.",
    (u) => u.cpuSeconds,
  );
  metric(
    "container_memory_working_set_bytes",
    "gauge",
    "Current working set in bytes.",
    (u) => u.memoryBytes,
  );
  metric(
    "container_memory_usage_bytes",
    "gauge",
    "Current memory usage in bytes, including all memory regardless of when it was accessed.",
    (u) => u.memoryBytes,
  );
  return out.join("\n") + "\n";
}

/** The kubelet's /metrics/resource, with millisecond timestamps as the kubelet writes them. */
export function resourceText(containers: readonly ContainerSample[], now = Date.now()): string {
  const use = usages(containers);
  const node = nodeUsage();
  const out: string[] = [];
  family(
    out,
    "node_cpu_usage_seconds_total",
    "counter",
    "Cumulative cpu time consumed by the node in core-seconds",
  );
  out.push(`node_cpu_usage_seconds_total ${node.cpuSeconds} ${now}`);
  family(out, "node_memory_working_set_bytes", "gauge", "Current working set of the node in bytes");
  out.push(`node_memory_working_set_bytes ${node.memoryBytes} ${now}`);
  const per = (name: string, type: string, help: string, value: (u: Usage) => number) => {
    family(out, name, type, help);
    for (const c of containers) {
      const u = use.get(c.pid);
      if (!u) continue;
      const l = labels({ container: c.container, namespace: c.namespace, pod: c.pod });
      out.push(`${name}${l} ${value(u)} ${now}`);
    }
  };
  per(
    "container_cpu_usage_seconds_total",
    "counter",
    "Cumulative cpu time consumed by the container in core-seconds",
    (u) => u.cpuSeconds,
  );
  per(
    "container_memory_working_set_bytes",
    "gauge",
    "Current working set of the container in bytes",
    (u) => u.memoryBytes,
  );
  family(
    out,
    "container_start_time_seconds",
    "gauge",
    "Start time of the container since unix epoch in seconds",
  );
  for (const c of containers) {
    const l = labels({ container: c.container, namespace: c.namespace, pod: c.pod });
    out.push(`container_start_time_seconds${l} ${c.startedAt / 1000} ${now}`);
  }
  family(
    out,
    "scrape_error",
    "gauge",
    "1 if there was an error while getting container metrics, 0 otherwise",
  );
  out.push("scrape_error 0");
  return out.join("\n") + "\n";
}
