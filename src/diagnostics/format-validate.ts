/**
 * @module diagnostics/format-validate
 * `validate`'s output: every finding as `file:line:col: severity: message` (the form editors and
 * CI annotations read), then, online, what each rule gives, then a summary line. `-o json` is the
 * report itself.
 */
import { MARKS } from "./checks.ts";
import { formatFinding } from "./findings.ts";
import type { ExampleQuery, RuleReport } from "./rule-probe/types.ts";
import type { ValidateReport } from "./validate.ts";

function plural(n: number, word: string): string {
  return `${String(n)} ${word}${n === 1 ? "" : "s"}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

function exampleLine(metric: string, ex: ExampleQuery): string[] {
  if (ex.error !== undefined) {
    return [`    ${MARKS.fail} ${metric} for ${ex.object}: ${ex.error}`, `        ${ex.query}`];
  }
  const samples = ex.samples ?? 0;
  const matched = ex.forObject;
  const ok = samples > 0 && matched !== 0 && !(ex.value !== undefined && Number.isNaN(ex.value));
  let result = plural(samples, "sample");
  if (matched !== undefined && matched !== samples) result += `, ${String(matched)} for the object`;
  if (ex.value !== undefined) result += `, value ${formatValue(ex.value)}`;
  return [
    `    ${ok ? MARKS.ok : MARKS.warn} ${metric} for ${ex.object}: ${result}`,
    `        ${ex.query}`,
  ];
}

function ruleBlock(file: string, r: RuleReport): string[] {
  const lines = [`${r.rule} (${file}:${String(r.line)}:${String(r.col)}) ${r.seriesQuery}`];
  lines.push(
    `  ${String(r.series)} series selected, ${plural(r.names, "name")}; ${String(r.kept)} kept by seriesFilters and name.matches; ${plural(r.metrics.length, "metric")}`,
  );
  const resources = [...new Set(r.metrics.flatMap((m) => m.resources))].sort();
  if (resources.length > 0) lines.push(`  resources: ${resources.join(", ")}`);
  for (const m of r.metrics) {
    if (m.example) lines.push(...exampleLine(m.metric, m.example));
    else if (m.queried)
      lines.push(
        `    ${MARKS.skip} ${m.metric}${m.resources.length > 0 ? ` (${m.resources.join(", ")})` : ""}: no object to query`,
      );
  }
  if (r.notQueried > 0)
    lines.push(`    … ${plural(r.notQueried, "more metric")} not queried (--max-queries-per-rule)`);
  return lines;
}

export function formatValidateText(r: ValidateReport): string {
  const lines: string[] = r.findings.map(formatFinding);
  if (r.online && r.rules.length > 0) {
    if (lines.length > 0) lines.push("");
    for (const rule of r.rules) lines.push(...ruleBlock(r.file, rule), "");
    if (lines[lines.length - 1] === "") lines.pop();
  }
  if (lines.length > 0) lines.push("");
  const { errors, warnings } = r.counts;
  const where = r.online
    ? ` (rules run against ${r.prometheusUrl ?? "Prometheus"})`
    : r.onlineSkipped !== undefined
      ? ` (not run against Prometheus: ${r.onlineSkipped})`
      : " (offline)";
  lines.push(
    errors + warnings === 0
      ? `${r.file}: no problems found${where}`
      : `${r.file}: ${plural(errors, "error")}, ${plural(warnings, "warning")}${where}`,
  );
  return `${lines.join("\n")}\n`;
}

export function formatValidateJson(r: ValidateReport, exitCode: number): string {
  return `${JSON.stringify({ ...r, exitCode }, null, 2)}\n`;
}
