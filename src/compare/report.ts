/**
 * @module compare/report
 * The comparison for people (a table per HPA) and for programs (`-o json`).
 */
import type { CompareReport, HpaComparison, MetricComparison } from "./types.ts";

function table(rows: readonly (readonly string[])[], indent: string): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) =>
    (
      indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ")
    ).trimEnd(),
  );
}

const STATUS_TEXT: Record<MetricComparison["status"], string> = {
  same: "same",
  different: "DIFFERENT",
  "missing-ours": "MISSING in ours",
  "missing-theirs": "MISSING in cluster",
  "missing-both": "missing on both sides",
  skipped: "not compared",
};

function replicasText(n: number | undefined): string {
  return n === undefined ? "-" : String(n);
}

function hpaLines(h: HpaComparison): string[] {
  const out: string[] = [];
  const head = `${h.namespace}/${h.name} → ${h.scaleTarget}`;
  if (h.status === "unchecked") {
    out.push(`${head}: not compared: ${h.error ?? ""}`);
    return out;
  }
  out.push(
    `${head} (replicas ${replicasText(h.currentReplicas)}, min ${String(h.minReplicas)}, max ${String(h.maxReplicas)}): desired replicas from the cluster's metrics ${replicasText(h.replicas.theirs)}, from ours ${replicasText(h.replicas.ours)}`,
  );
  const rows: string[][] = [["METRIC", "TARGET", "CLUSTER", "OURS", "REPLICAS", "STATUS"]];
  const notes: string[] = [];
  for (const m of h.metrics) {
    rows.push([
      m.metric || m.type,
      m.target,
      m.theirs.value ?? "-",
      m.ours.value ?? "-",
      `${replicasText(m.theirs.replicas)} / ${replicasText(m.ours.replicas)}`,
      STATUS_TEXT[m.status],
    ]);
    const label = m.metric || `metrics[${String(m.index)}]`;
    if (m.detail !== undefined) notes.push(`${label}: ${m.detail}`);
    if (m.theirs.error !== undefined) notes.push(`${label}: cluster: ${m.theirs.error}`);
    if (m.ours.error !== undefined) notes.push(`${label}: ours: ${m.ours.error}`);
    if (m.theirs.replicasError !== undefined) {
      notes.push(`${label}: cluster's value gives no replica count: ${m.theirs.replicasError}`);
    }
    if (m.ours.replicasError !== undefined) {
      notes.push(`${label}: our value gives no replica count: ${m.ours.replicasError}`);
    }
  }
  out.push(...table(rows, "  "));
  for (const n of notes) out.push(`    ${n}`);
  return out;
}

export function formatReport(r: CompareReport): string {
  const out: string[] = [];
  out.push(
    "The cluster's metrics APIs (through the API server) against ours (in-process, this config):",
  );
  for (const d of r.discovery) {
    out.push(`  ${d.group}/${d.version}: served by ${d.servedBy}`);
  }
  out.push("");
  if (r.hpas.length === 0) out.push("No HPAs.", "");
  for (const h of r.hpas) out.push(...hpaLines(h), "");
  const disc = r.discovery.filter((d) => d.onlyOurs.length > 0 || d.onlyTheirs.length > 0);
  if (disc.length === 0) {
    out.push("Discovery: both sides list the same metrics.");
  } else {
    out.push("Discovery differences:");
    for (const d of disc) {
      if (d.onlyTheirs.length > 0) {
        out.push(`  ${d.group}/${d.version}: only the cluster lists ${d.onlyTheirs.join(", ")}`);
      }
      if (d.onlyOurs.length > 0) {
        out.push(`  ${d.group}/${d.version}: only ours lists ${d.onlyOurs.join(", ")}`);
      }
    }
  }
  out.push(`Tolerance: ${r.tolerance.rule}.`);
  out.push(
    "REPLICAS: what the HPA controller would compute from each side's value (cluster / ours), before stabilization and rate limits.",
  );
  const metrics = r.hpas.flatMap((h) => h.metrics);
  const differing = r.hpas.filter((h) => h.status === "different");
  const count = (st: MetricComparison["status"]) => metrics.filter((m) => m.status === st).length;
  const both = count("missing-both");
  const skipped = count("skipped");
  out.push(
    r.match
      ? `Result: match: ${String(count("same"))} metric(s) of ${String(r.hpas.length)} HPA(s) the same${both > 0 ? `, ${String(both)} missing on both sides` : ""}${skipped > 0 ? `, ${String(skipped)} not compared` : ""}.`
      : `Result: DIFFERENT: ${differing.length === 0 ? "no HPA" : differing.map((h) => `${h.namespace}/${h.name}`).join(", ")} differ${disc.length > 0 ? "; discovery differs" : ""}.`,
  );
  return `${out.join("\n")}\n`;
}

export function formatReportJson(r: CompareReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
