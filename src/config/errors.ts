/**
 * @module config/errors
 * ConfigError: every problem found in a config file, each as `file:line:col: what is wrong; what
 * to fix`, one per line, so an editor or terminal can jump to it. A catalog error
 * (`KCM_ERR_CONFIG`, src/errors.ts).
 */
import { KcmError } from "../errors.ts";

export interface ConfigIssue {
  readonly file: string;
  /** 1-based; undefined when the problem is the file itself (unreadable). */
  readonly line?: number | undefined;
  readonly col?: number | undefined;
  /** `what is wrong; what to fix`. */
  readonly message: string;
  /**
   * A warning is a problem prometheus-adapter starts with and meets only at query time: the
   * adapter starts too (unless `--strict-config`) and reports it. Default: an error.
   */
  readonly severity?: "error" | "warning" | undefined;
}

/** One issue as a line: `file:line:col: message` (or `file: message` without a position). */
export function formatIssue(issue: ConfigIssue): string {
  const where =
    issue.line === undefined
      ? issue.file
      : `${issue.file}:${String(issue.line)}:${String(issue.col ?? 1)}`;
  return `${where}: ${issue.severity === "warning" ? "warning: " : ""}${issue.message}`;
}

export class ConfigError extends KcmError {
  override readonly name: string = "ConfigError";
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    super("KCM_ERR_CONFIG", issues.map(formatIssue).join("\n"), options);
    this.issues = issues;
  }

  /** One line per issue; each already says what to fix, so the catalog's hint is not repeated. */
  override toLine(): string {
    return `${this.code}: ${this.message}`;
  }
}

export function isConfigError(e: unknown): e is ConfigError {
  return e instanceof ConfigError;
}
