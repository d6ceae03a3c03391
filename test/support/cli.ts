/**
 * @module test/support/cli
 * The CLI as a user runs it: its own process, from the sources through tsx (never a dist/ build,
 * which may predate them), with its exit code and output. A non-zero exit is a result to assert
 * on; only a process that could not run or was killed (timeout) throws.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { ExplainReport, Link } from "../../src/diagnostics/explain/report.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const exec = promisify(execFile);

/** The whole CLI. */
export const MAIN = "src/cli/main.ts";
/** `validate`, `doctor` and `explain` alone (test/fixtures/diagnostics/cli.ts). */
export const DIAGNOSTICS_CLI = "test/fixtures/diagnostics/cli.ts";

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(
  args: readonly string[],
  o: { readonly entry?: string; readonly timeoutMs?: number } = {},
): Promise<CliRun> {
  try {
    const r = await exec(process.execPath, ["--import", "tsx", o.entry ?? MAIN, ...args], {
      cwd: REPO,
      maxBuffer: 16 * 1024 * 1024,
      timeout: o.timeoutMs ?? 120_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof x.code !== "number") throw e;
    return { code: x.code, stdout: x.stdout ?? "", stderr: x.stderr ?? "" };
  }
}

/** `explain … -o json`: the run and its report (the output must be the JSON report). */
export async function explainJson(
  args: readonly string[],
): Promise<{ run: CliRun; report: ExplainReport }> {
  const run = await runCli(["explain", ...args, "-o", "json"], { entry: DIAGNOSTICS_CLI });
  assert.ok(run.stdout.startsWith("{"), run.stdout + run.stderr);
  return { run, report: JSON.parse(run.stdout) as ExplainReport };
}

/** The report's link of `step`; fails the test, with the report, when there is none. */
export function linkOf(report: ExplainReport, step: string): Link {
  const l = report.sections.flatMap((s) => s.links).find((x) => x.step === step);
  assert.ok(l, `no ${step} link: ${JSON.stringify(report, null, 2)}`);
  return l;
}
