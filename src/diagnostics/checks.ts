/**
 * @module diagnostics/checks
 * What `doctor` reports: one line per check, ✓ passed, ✗ failed (the command exits non-zero), !
 * works but deserves attention, - not checked or not applicable. A failed check names its cause
 * and the fix.
 */

export type CheckStatus = "ok" | "fail" | "warn" | "skip";

export interface Check {
  /** The part of the chain: `aggregation layer`, `APIServices`, `adapter`, `HPAs`… */
  readonly section: string;
  readonly status: CheckStatus;
  /** What was checked and what was found, on one line. */
  readonly title: string;
  readonly cause?: string;
  readonly fix?: string;
  /** A stable identifier of the failure kind, for `-o json` consumers and tests. */
  readonly kind?: string;
}

export const MARKS: Readonly<Record<CheckStatus, string>> = {
  ok: "✓",
  fail: "✗",
  warn: "!",
  skip: "-",
};

/** `doctor`'s exit code: 1 when any check failed. */
export function doctorExitCode(checks: readonly Check[]): 0 | 1 {
  return checks.some((c) => c.status === "fail") ? 1 : 0;
}

export function countChecks(checks: readonly Check[]): Record<CheckStatus, number> {
  const out: Record<CheckStatus, number> = { ok: 0, fail: 0, warn: 0, skip: 0 };
  for (const c of checks) out[c.status]++;
  return out;
}

/** The checklist as text: sections in first-seen order, causes and fixes indented under a line. */
export function formatChecks(checks: readonly Check[]): string {
  const sections: string[] = [];
  for (const c of checks) if (!sections.includes(c.section)) sections.push(c.section);
  const lines: string[] = [];
  for (const s of sections) {
    lines.push(s);
    for (const c of checks.filter((x) => x.section === s)) {
      lines.push(`  ${MARKS[c.status]} ${c.title}`);
      if (c.cause !== undefined) lines.push(`      cause: ${c.cause}`);
      if (c.fix !== undefined) lines.push(`      fix: ${c.fix}`);
    }
  }
  const n = countChecks(checks);
  const summary =
    n.fail === 0
      ? `all ${String(n.ok)} checks passed`
      : `${String(n.fail)} of ${String(checks.length - n.skip)} checks failed`;
  const extra = n.warn > 0 ? `, ${String(n.warn)} warning${n.warn === 1 ? "" : "s"}` : "";
  lines.push("", `${summary}${extra}`);
  return `${lines.join("\n")}\n`;
}

export function formatChecksJson(checks: readonly Check[]): string {
  const n = countChecks(checks);
  return `${JSON.stringify({ checks, summary: { passed: n.ok, failed: n.fail, warnings: n.warn, skipped: n.skip } }, null, 2)}\n`;
}
