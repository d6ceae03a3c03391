/**
 * @module apimachinery/field-selector
 * Kubernetes field selectors (`k=v,k!=v`, `k==v`), ported from apimachinery
 * `pkg/fields/selector.go`: backslash escapes for `\`, `,` and `=`, terms sorted as written, and
 * no validation of field names (the API server checks those per resource).
 */

export class FieldSelectorError extends Error {
  override readonly name = "FieldSelectorError";
}

export interface FieldRequirement {
  readonly field: string;
  /** `==` parses to `=`, as upstream's hasTerm does. */
  readonly operator: "=" | "!=";
  readonly value: string;
}

export type Fields = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

/** fields.EscapeValue. */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (ch) => `\\${ch}`);
}

/** fields.UnescapeValue, with upstream's error texts. */
export function unescapeFieldValue(value: string): string {
  if (!/[\\,=]/.test(value)) return value;
  let out = "";
  let inSlash = false;
  for (const ch of value) {
    if (inSlash) {
      if (ch !== "\\" && ch !== "," && ch !== "=") {
        throw new FieldSelectorError(`invalid field selector: invalid escape sequence: \\${ch}`);
      }
      out += ch;
      inSlash = false;
      continue;
    }
    if (ch === "\\") inSlash = true;
    else if (ch === "," || ch === "=") {
      // Go prints the rune with %v, i.e. as its number.
      throw new FieldSelectorError(
        `invalid field selector: unescaped character in value: ${ch.codePointAt(0) ?? 0}`,
      );
    } else out += ch;
  }
  if (inSlash) throw new FieldSelectorError("invalid field selector: invalid escape sequence: \\");
  return out;
}

/** splitTerms: split on commas that are not escaped. */
function splitTerms(selector: string): string[] {
  if (selector.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i];
    if (inSlash) inSlash = false;
    else if (ch === "\\") inSlash = true;
    else if (ch === ",") {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

const TERM_OPERATORS = ["!=", "==", "="] as const;

/** splitTerm: the first position where any operator starts wins. */
function splitTerm(term: string): { lhs: string; op: string; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of TERM_OPERATORS) {
      if (term.startsWith(op, i)) {
        return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
      }
    }
  }
  return undefined;
}

function getField(fields: Fields, key: string): string {
  if (fields instanceof Map) return (fields as ReadonlyMap<string, string>).get(key) ?? "";
  const record = fields as Readonly<Record<string, string>>;
  return Object.hasOwn(record, key) ? (record[key] ?? "") : "";
}

export class FieldSelector {
  readonly requirements: readonly FieldRequirement[];

  constructor(requirements: readonly FieldRequirement[]) {
    this.requirements = requirements;
  }

  isEmpty(): boolean {
    return this.requirements.length === 0;
  }

  /** A missing field reads as "", as in fields.Set.Get. */
  matches(fields: Fields): boolean {
    return this.requirements.every((r) =>
      r.operator === "="
        ? getField(fields, r.field) === r.value
        : getField(fields, r.field) !== r.value,
    );
  }

  /** fields.Selector.String(): values re-escaped, terms in parse order. */
  toString(): string {
    return this.requirements
      .map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`)
      .join(",");
  }
}

/**
 * fields.ParseSelector. Throws FieldSelectorError.
 *
 * @example parseFieldSelector("metadata.name=web,status.phase!=Failed")
 */
export function parseFieldSelector(selector: string): FieldSelector {
  // Upstream sorts the raw terms before parsing them.
  const parts = splitTerms(selector).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const requirements: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === "") continue;
    const term = splitTerm(part);
    if (!term) {
      throw new FieldSelectorError(`invalid selector: '${selector}'; can't understand '${part}'`);
    }
    const value = unescapeFieldValue(term.rhs);
    requirements.push({ field: term.lhs, operator: term.op === "!=" ? "!=" : "=", value });
  }
  return new FieldSelector(requirements);
}
