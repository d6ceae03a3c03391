/**
 * @module template/errors
 * TemplateError: a parse or execution failure with its 1-based line and column in the template
 * text. The message follows Go's `template: NAME:LINE: ...` form, with the column added.
 */

export type TemplatePhase = "parse" | "exec";

export class TemplateError extends Error {
  override readonly name = "TemplateError";
  readonly phase: TemplatePhase;
  readonly templateName: string;
  /** 1-based line in the template text. */
  readonly line: number;
  /** 1-based column (UTF-16 units) in that line. */
  readonly col: number;
  /** The message without the `template: NAME:LINE:COL: ` prefix. */
  readonly detail: string;

  constructor(
    phase: TemplatePhase,
    templateName: string,
    line: number,
    col: number,
    detail: string,
    message: string,
  ) {
    super(message);
    this.phase = phase;
    this.templateName = templateName;
    this.line = line;
    this.col = col;
    this.detail = detail;
  }
}

/** 1-based line and column of a UTF-16 offset. */
export function positionOf(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const lastNewline = before.lastIndexOf("\n");
  let line = 1;
  for (const ch of before) if (ch === "\n") line++;
  return { line, col: offset - lastNewline };
}

export function parseError(
  name: string,
  text: string,
  offset: number,
  detail: string,
): TemplateError {
  const { line, col } = positionOf(text, offset);
  return new TemplateError(
    "parse",
    name,
    line,
    col,
    detail,
    `template: ${name}:${line}:${col}: ${detail}`,
  );
}

/** Go: `template: NAME:LINE:COL: executing "NAME" at <CONTEXT>: DETAIL`. */
export function execError(
  name: string,
  text: string,
  offset: number,
  context: string,
  detail: string,
): TemplateError {
  const { line, col } = positionOf(text, offset);
  return new TemplateError(
    "exec",
    name,
    line,
    col,
    detail,
    `template: ${name}:${line}:${col}: executing ${JSON.stringify(name)} at <${context}>: ${detail}`,
  );
}
