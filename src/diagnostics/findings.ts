/**
 * @module diagnostics/findings
 * What `validate` reports: problems in a config file, each with its severity and `file:line:col`,
 * whether the config loader, a static check or a look at Prometheus found it. Severity travels
 * with every problem, so a loader that turns an error into a warning changes the exit code
 * without any change here.
 */
import type { ConfigIssue } from "../config/errors.ts";

export type Severity = "error" | "warning";

/** Which check found a problem: stable identifiers for `-o json` consumers and tests. */
export type FindingCheck =
  /** The config loader (YAML, shape, regexes, templates). */
  | "config"
  /** Two rules, or two series of one rule, give the same metric name. */
  | "duplicate-metric"
  /** A rate-like window shorter than two scrape intervals. */
  | "rate-window"
  /** The seriesQuery selects no series. */
  | "no-series"
  /** seriesFilters drop every series the seriesQuery selects. */
  | "filtered-out"
  /** `name.matches` matches none of the series names. */
  | "name-matches-nothing"
  /** A custom rule's series carry no label that maps to a resource. */
  | "no-resource"
  /** A label mapped to a resource it does not name (Prometheus' `job` → Kubernetes Jobs). */
  | "label-mapping"
  /** An override names a resource the cluster does not serve. */
  | "unknown-resource"
  /** The rendered query fails, or returns nothing usable for a real object. */
  | "query"
  /** Prometheus or the API server could not be asked. */
  | "unreachable";

export interface Finding {
  readonly severity: Severity;
  readonly check: FindingCheck;
  readonly file: string;
  /** 1-based; undefined when the problem is not at a place in the file. */
  readonly line?: number | undefined;
  readonly col?: number | undefined;
  /** `what is wrong; what to fix`. */
  readonly message: string;
}

/** A config loader issue as a finding; the loader's default severity is an error. */
export function fromConfigIssue(issue: ConfigIssue): Finding {
  return {
    severity: issue.severity ?? "error",
    check: "config",
    file: issue.file,
    line: issue.line,
    col: issue.col,
    message: issue.message,
  };
}

/** By position, then errors before warnings; problems without a position last. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  const big = Number.MAX_SAFE_INTEGER;
  return [...findings].sort(
    (a, b) =>
      (a.line ?? big) - (b.line ?? big) ||
      (a.col ?? 0) - (b.col ?? 0) ||
      (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1),
  );
}

/** Two findings are the same when they say the same thing at the same place. */
export function dedupeFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.file}\u0000${String(f.line)}\u0000${String(f.col)}\u0000${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export interface FindingCounts {
  readonly errors: number;
  readonly warnings: number;
}

export function countFindings(findings: readonly Finding[]): FindingCounts {
  const errors = findings.filter((f) => f.severity === "error").length;
  return { errors, warnings: findings.length - errors };
}

/** `validate`'s exit code: 2 with any error, 1 with only warnings under --strict, else 0. */
export function exitCodeFor(findings: readonly Finding[], strict: boolean): 0 | 1 | 2 {
  const { errors, warnings } = countFindings(findings);
  if (errors > 0) return 2;
  if (strict && warnings > 0) return 1;
  return 0;
}

/** One finding as an editor-friendly line: `file:line:col: severity: message`. */
export function formatFinding(f: Finding): string {
  const where = f.line === undefined ? f.file : `${f.file}:${String(f.line)}:${String(f.col ?? 1)}`;
  return `${where}: ${f.severity}: ${f.message}`;
}
