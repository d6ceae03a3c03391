/**
 * @module config/load
 * Reads the adapter config: YAML (1.1, like yaml.v2) → shape check (zod) → semantic checks.
 * Every problem is collected and reported as `file:line:col: what is wrong; what to fix`, one per
 * line, in a single ConfigError, so a user fixes a file in one pass rather than one error a run.
 */
import { open } from "node:fs/promises";
import { isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from "yaml";
import { z } from "zod";
import {
  AdapterConfigSchema,
  DiscoveryRuleSchema,
  ResourceRulesSchema,
  type AdapterConfig,
} from "./schema.ts";
import { ConfigError, type ConfigIssue } from "./errors.ts";
import { keyText, locate } from "./locate.ts";
import { closestKey } from "./suggest.ts";
import {
  checkResourceRules,
  checkRule,
  checkSemantics,
  formatPath,
  type SemanticIssue,
  type SemanticOptions,
} from "./semantics.ts";

export interface LoadOptions extends SemanticOptions {
  /**
   * `--strict-config`: warnings (problems prometheus-adapter starts with and meets only at query
   * time) fail the load like errors.
   */
  readonly strict?: boolean | undefined;
  /** Called once per warning of a config that loads. */
  readonly onWarning?: ((issue: ConfigIssue) => void) | undefined;
}

/** Example values for required keys, used in "add …" hints. */
const EXAMPLES: Readonly<Record<string, string>> = {
  seriesQuery: `seriesQuery: '{__name__=~"^http_requests_.*",namespace!=""}'`,
  metricsQuery: "metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)'",
  resource: "resource: pod",
  containerQuery:
    "containerQuery: 'sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)'",
  nodeQuery:
    "nodeQuery: 'sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>,id=\"/\"}[5m])) by (<<.GroupBy>>)'",
  cpu: "cpu: {containerQuery: …, nodeQuery: …, resources: …, containerLabel: container}",
  memory: "memory: {containerQuery: …, nodeQuery: …, resources: …, containerLabel: container}",
};

const EXPECTED: Readonly<Record<string, string>> = {
  string: "a string",
  object: "a mapping",
  record: "a mapping",
  array: "a list",
  boolean: "true or false",
};

function describe(value: unknown): string {
  if (value === null || value === undefined) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") {
    // A whole file can land here (a file that is no YAML mapping): its start is enough.
    const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
    return `the string ${JSON.stringify(shown)}`;
  }
  if (typeof value === "boolean") return `the boolean ${String(value)}`;
  return typeof value;
}

function typeHint(expected: string, value: unknown, topLevel: boolean): string {
  if (expected === "string") {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return "quote the value: unquoted {…} is a YAML mapping, e.g. seriesQuery: '{__name__=~\"x\"}'";
    }
    return "write a single text value, quoted if it contains : { } [ ] or #";
  }
  if ((expected === "object" || expected === "record") && topLevel) {
    return "write rules:, externalRules: and/or resourceRules: at the top level";
  }
  if (expected === "object" || expected === "record") {
    return "write key: value pairs indented under this key";
  }
  if (expected === "array") return "write a list, one item per line starting with '- '";
  if (expected === "boolean") return "write true or false, unquoted";
  return "fix the value";
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

function hasKey(root: unknown, path: readonly PropertyKey[]): boolean {
  const parent = valueAt(root, path.slice(0, -1));
  const last = path[path.length - 1];
  return (
    last !== undefined &&
    parent !== null &&
    typeof parent === "object" &&
    Object.hasOwn(parent, last)
  );
}

/** The keys the schema allows for the object at `path`, for "did you mean" and key lists. */
function allowedKeys(path: readonly PropertyKey[]): string[] {
  let s: z.ZodType = AdapterConfigSchema;
  const unwrap = (t: z.ZodType): z.ZodType =>
    t instanceof z.ZodOptional ? unwrap(t.unwrap() as z.ZodType) : t;
  for (const seg of path) {
    s = unwrap(s);
    if (s instanceof z.ZodObject) {
      const next = (s.shape as Record<string, z.ZodType | undefined>)[String(seg)];
      if (next === undefined) return [];
      s = next;
    } else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else return [];
  }
  s = unwrap(s);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

function where(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "at the top level" : `in ${formatPath(path)}`;
}

/**
 * Makes the values match what yaml.v2 would put into the Go structs: numbers, dates and booleans
 * written plainly are text when the field is a string (`as: 404`, `window: 0`), and keys are
 * always their source text (`y:` is a key named "y", not `true`). Only `namespaced` is boolean.
 */
function normalizeScalars(doc: Document): void {
  visit(doc, {
    Scalar(key, node, path) {
      if (node.type !== "PLAIN" || node.source === undefined) return;
      const v: unknown = node.value;
      if (typeof v === "string" || typeof v === "symbol" || v === null) return;
      if (key !== "key" && typeof v === "boolean") {
        const parent = path[path.length - 1];
        if (isPair(parent) && keyText(parent.key) === "namespaced") return;
      }
      node.value = node.source;
    },
  });
}

/** JSON-like data from the document; null mapping values become absent keys, as zero values. */
function toData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toData);
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = v === null ? undefined : toData(v);
    return out;
  }
  return value;
}

/** The path of a node reached through `visit` ancestors (maps by key, lists by index). */
function pathOf(ancestors: readonly unknown[], node: unknown): PropertyKey[] {
  const chain = [...ancestors, node];
  const path: PropertyKey[] = [];
  chain.forEach((a, k) => {
    const child = chain[k + 1];
    if (isPair(a) && child === a.value) {
      const t = keyText(a.key);
      if (t !== undefined) path.push(t);
    } else if (isSeq(a) && child !== undefined) {
      path.push(a.items.indexOf(child));
    }
  });
  return path;
}

function duplicateKeyMessage(doc: Document, offset: number): string {
  let message = "duplicate key; keep only one of them";
  visit(doc, {
    Pair(_k, pair, ancestors) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        const name = keyText(pair.key) ?? "";
        const parentPath = pathOf(ancestors.slice(0, -1), ancestors[ancestors.length - 1]);
        message = `duplicate key ${JSON.stringify(name)} ${where(parentPath)}; keep only one of them (keys must be unique)`;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return message;
}

/** Where each loaded config's parts are written, for problems found after loading. */
const sources = new WeakMap<AdapterConfig, (path: readonly PropertyKey[]) => ConfigIssue>();

/**
 * A problem found after loading (the REST mapper lacks an override's resource, say), placed at
 * `path` of the file `config` was loaded from: `file:line:col`.
 */
export function configIssueAt(
  config: AdapterConfig,
  path: readonly PropertyKey[],
  message: string,
  severity?: "warning",
): ConfigIssue {
  const at = sources.get(config);
  return { ...(at ? at(path) : { file: "config" }), message, severity };
}

/** Parses and validates config text; throws {@link ConfigError} listing every problem. */
export function parseConfig(
  text: string,
  fileName: string,
  options: LoadOptions = {},
): AdapterConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    version: "1.1",
    uniqueKeys: true,
    prettyErrors: false,
  });
  const issues: ConfigIssue[] = [];
  const at = (offset: number, message: string, severity?: "warning"): void => {
    const pos = lines.linePos(offset);
    issues.push({ file: fileName, line: pos.line, col: pos.col, message, severity });
  };
  const fatal = () => new ConfigError(sortIssues(issues));

  let syntaxBroken = false;
  for (const err of doc.errors) {
    if (err.code === "DUPLICATE_KEY") {
      at(err.pos[0], duplicateKeyMessage(doc, err.pos[0]));
    } else {
      syntaxBroken = true;
      const first = err.message.split("\n")[0] ?? err.message;
      at(err.pos[0], `YAML syntax error: ${first}; fix the YAML at this position`);
    }
  }
  if (syntaxBroken) throw fatal();

  normalizeScalars(doc);
  let data: unknown;
  try {
    data = toData(doc.toJS({ maxAliasCount: 1000 }));
  } catch (e) {
    at(
      0,
      `cannot read the YAML: ${e instanceof Error ? e.message : String(e)}; simplify anchors and aliases`,
    );
    throw fatal();
  }
  if (data === null || data === undefined) data = {};

  const parsed = AdapterConfigSchema.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path;
      const loc = locate(doc, path);
      if (issue.code === "unrecognized_keys") {
        const allowed = allowedKeys(path);
        for (const key of issue.keys) {
          const keyLoc = locate(doc, [...path, key]);
          const guess = closestKey(key, allowed);
          const fix =
            guess !== undefined
              ? `did you mean ${JSON.stringify(guess)}?`
              : `allowed keys are ${allowed.map((k) => JSON.stringify(k)).join(", ")}`;
          at(
            keyLoc.keyOffset ?? keyLoc.offset,
            `unknown key ${JSON.stringify(key)} ${where(path)}; ${fix}`,
          );
        }
      } else if (issue.code === "invalid_type") {
        const value = valueAt(data, path);
        const name = String(path[path.length - 1] ?? "");
        const parentPath = path.slice(0, -1);
        if (value === undefined && path.length > 0) {
          const example = EXAMPLES[name] ?? `${name}: …`;
          if (hasKey(data, path)) {
            at(
              loc.keyOffset ?? loc.offset,
              `${formatPath(path)} is empty; set it, e.g. ${example}`,
            );
          } else {
            at(
              loc.offset,
              `${parentPath.length === 0 ? "the config" : formatPath(parentPath)} is missing ${JSON.stringify(name)}; add ${example}`,
            );
          }
        } else {
          const expected = EXPECTED[issue.expected] ?? issue.expected;
          const subject = path.length === 0 ? "the config" : formatPath(path);
          at(
            loc.offset,
            `${subject} must be ${expected}, not ${describe(value)}; ${typeHint(issue.expected, value, path.length === 0)}`,
          );
        }
      } else {
        at(loc.offset, `${formatPath(path) || "the config"}: ${issue.message}; fix the value`);
      }
    }
    // Still check the parts that are well-formed, so one run reports everything.
    reportSemantics(partialSemantics(data, options));
    throw fatal();
  }

  reportSemantics(checkSemantics(parsed.data, options));
  const errors = issues.filter((i) => i.severity !== "warning");
  if (errors.length > 0 || (options.strict === true && issues.length > 0)) throw fatal();
  for (const w of sortIssues(issues)) options.onWarning?.(w);
  sources.set(parsed.data, (path) => {
    const loc = locate(doc, path);
    const pos = lines.linePos(loc.keyOffset ?? loc.offset);
    return { file: fileName, line: pos.line, col: pos.col, message: "" };
  });
  return parsed.data;

  function reportSemantics(found: readonly SemanticIssue[]): void {
    for (const issue of found) {
      const loc = locate(doc, issue.path);
      at(
        issue.atKey === true ? (loc.keyOffset ?? loc.offset) : loc.offset,
        issue.message,
        issue.severity,
      );
    }
  }
}

/** Semantic checks of each rule and of resourceRules that individually have the right shape. */
function partialSemantics(data: unknown, options: LoadOptions): SemanticIssue[] {
  const found: SemanticIssue[] = [];
  for (const list of ["rules", "externalRules"] as const) {
    const rules = valueAt(data, [list]);
    if (!Array.isArray(rules)) continue;
    rules.forEach((raw: unknown, k) => {
      const rule = DiscoveryRuleSchema.safeParse(raw);
      if (rule.success) found.push(...checkRule([list, k], rule.data, options));
    });
  }
  const rr = ResourceRulesSchema.safeParse(valueAt(data, ["resourceRules"]));
  if (rr.success) found.push(...checkResourceRules(rr.data, options));
  return found;
}

function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/**
 * Larger config files are refused before they are read: a ConfigMap holds at most 1 MiB, and a
 * file of tens of MiB (not a config) would take a minute and gigabytes to parse.
 */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** The text of the config file; an unreadable or oversized file is a ConfigError naming it. */
export async function readConfigText(path: string): Promise<string> {
  if (path === "") {
    throw new ConfigError([
      { file: "--config", message: "the flag is empty; give the config file's path" },
    ]);
  }
  let size: number;
  let bytes: Buffer;
  try {
    const file = await open(path, "r");
    try {
      size = (await file.stat()).size;
      bytes = size > MAX_CONFIG_BYTES ? Buffer.alloc(0) : await file.readFile();
    } finally {
      await file.close();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
    throw new ConfigError(
      [{ file: path, message: `cannot read the config file (${code}); check the --config path` }],
      { cause: e },
    );
  }
  if (size > MAX_CONFIG_BYTES) {
    throw new ConfigError([
      {
        file: path,
        message: `the config file is ${(Math.ceil((size / 1024 / 1024) * 10) / 10).toFixed(1)} MiB, over the 4 MiB accepted (a ConfigMap holds at most 1 MiB); check the --config path`,
      },
    ]);
  }
  // YAML files are UTF-8 here, as for prometheus-adapter; a UTF-16 file (as some Windows editors
  // save) would otherwise read as one garbled string.
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new ConfigError([
      { file: path, message: "the config file is UTF-16 text; save it as UTF-8" },
    ]);
  }
  return bytes.toString("utf8");
}

/** Reads and validates the config file at `path` (named as given in messages). */
export async function loadConfig(path: string, options: LoadOptions = {}): Promise<AdapterConfig> {
  return parseConfig(await readConfigText(path), path, options);
}
