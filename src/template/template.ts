/**
 * @module template/template
 * The public API: `parseTemplate` checks a Go text/template (prometheus-adapter's `metricsQuery`
 * and `resources.template`) at config-load time, and `Template.execute` renders it.
 *
 * @example
 * const t = parseTemplate("sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)", {
 *   ...ADAPTER_DELIMITERS,
 *   name: "metrics-query",
 *   fields: QUERY_TEMPLATE_FIELDS,
 * });
 * t.execute({ Series: "up", LabelMatchers: 'pod="a"', GroupBy: "pod" }); // sum(up{pod="a"}) by (pod)
 */

import type { ArgNode, ListNode, Node, PipeNode } from "./ast.ts";
import { parseError } from "./errors.ts";
import { execute } from "./exec.ts";
import { parse } from "./parser.ts";
import { GoStruct } from "./values.ts";

export { TemplateError } from "./errors.ts";
export { goFloat, goStringMap, goStruct, GoFloat, GoMap, GoStruct } from "./values.ts";

/** prometheus-adapter renders its templates with `<<` and `>>`. */
export const ADAPTER_DELIMITERS = { leftDelim: "<<", rightDelim: ">>" } as const;

/** prometheus-adapter's queryTemplateArgs (pkg/naming/metrics_query.go), in field order. */
export const QUERY_TEMPLATE_FIELDS = [
  "Series",
  "LabelMatchers",
  "LabelValuesByName",
  "GroupBy",
  "GroupBySlice",
] as const;

/** The resource label template's data: a schema.GroupResource (pkg/naming/resource_converter.go). */
export const RESOURCE_TEMPLATE_FIELDS = ["Group", "Resource"] as const;

export interface ParseOptions {
  /** Default `{{`, as in Go. */
  readonly leftDelim?: string | undefined;
  /** Default `}}`, as in Go. */
  readonly rightDelim?: string | undefined;
  /** Shown in error messages; default "template". */
  readonly name?: string | undefined;
  /**
   * The data's struct fields. When given, a reference to any other field of the top-level data
   * (`.X` where dot is the data, or `$.X`) is a parse error, and plain-object data is executed
   * as a struct with exactly these fields.
   */
  readonly fields?: readonly string[] | undefined;
  /**
   * false: do not reject unknown fields at parse time; executing one fails, as in Go (a config
   * upstream starts with must start here too). Default true.
   */
  readonly checkFields?: boolean | undefined;
  /** The struct's Go type name for execution errors; default "struct". */
  readonly typeName?: string | undefined;
}

export class Template {
  readonly name: string;
  readonly text: string;
  readonly root: ListNode;
  readonly fields: readonly string[] | undefined;
  readonly typeName: string;

  constructor(name: string, text: string, root: ListNode, opts: ParseOptions) {
    this.name = name;
    this.text = text;
    this.root = root;
    this.fields = opts.fields;
    this.typeName = opts.typeName ?? "struct";
  }

  /**
   * Renders the template. Plain objects are Go maps, unless `fields` was given: then the
   * top-level object is a struct with those fields. Throws TemplateError on execution errors.
   */
  execute(data: unknown): string {
    return execute({ name: this.name, text: this.text, root: this.root }, this.wrap(data));
  }

  private wrap(data: unknown): unknown {
    const fields = this.fields;
    if (fields === undefined || typeof data !== "object" || data === null) return data;
    const proto: unknown = Object.getPrototypeOf(data);
    if (proto !== Object.prototype && proto !== null) return data;
    const record = data as Readonly<Record<string, unknown>>;
    return new GoStruct(this.typeName, new Map(fields.map((f) => [f, record[f]])));
  }
}

/** Parses and checks a template; throws TemplateError (with line and col) when it is invalid. */
export function parseTemplate(text: string, opts: ParseOptions = {}): Template {
  const name = opts.name ?? "template";
  const root = parse({
    name,
    text,
    leftDelim: opts.leftDelim ?? "{{",
    rightDelim: opts.rightDelim ?? "}}",
  });
  if (opts.fields !== undefined && opts.checkFields !== false) {
    checkFields(name, text, root, new Set(opts.fields));
  }
  return new Template(name, text, root, opts);
}

/**
 * Rejects `.X` / `$.X` for X outside the declared fields wherever dot is still the top-level
 * data: outside `with` and `range` bodies. Go would fail only at execution time.
 */
function checkFields(name: string, text: string, root: ListNode, fields: ReadonlySet<string>) {
  const known = [...fields].map((f) => `.${f}`).join(", ");
  const check = (field: string | undefined, pos: number): void => {
    if (field !== undefined && !fields.has(field)) {
      throw parseError(
        name,
        text,
        pos,
        `can't evaluate field ${field}: the data has only ${known === "" ? "no fields" : known}`,
      );
    }
  };
  const arg = (n: ArgNode, dotIsRoot: boolean): void => {
    switch (n.type) {
      case "field":
        if (dotIsRoot) check(n.ident[0], n.pos);
        return;
      case "variable":
        if (n.ident[0] === "$") check(n.ident[1], n.pos);
        return;
      case "chain":
        arg(n.node, dotIsRoot);
        return;
      case "pipe":
        pipe(n, dotIsRoot);
        return;
      case "identifier":
      case "dot":
      case "nil":
      case "bool":
      case "number":
      case "string":
        return;
    }
  };
  const pipe = (p: PipeNode, dotIsRoot: boolean): void => {
    for (const cmd of p.cmds) for (const a of cmd.args) arg(a, dotIsRoot);
  };
  const walk = (n: Node, dotIsRoot: boolean): void => {
    switch (n.type) {
      case "list":
        for (const child of n.nodes) walk(child, dotIsRoot);
        return;
      case "action":
        pipe(n.pipe, dotIsRoot);
        return;
      case "if":
      case "range":
      case "with":
        pipe(n.pipe, dotIsRoot);
        walk(n.list, dotIsRoot && n.type === "if");
        if (n.elseList !== undefined) walk(n.elseList, dotIsRoot);
        return;
      case "text":
      case "break":
      case "continue":
        return;
    }
  };
  walk(root, true);
}
