/**
 * @module diagnostics/config-document
 * The config file as written, for checks that run beside the loader: where a path is
 * (`line:col`, down to a substring of a value such as a rate window), and the rules that have the
 * right shape even when others do not, so one run reports as much as it can.
 */
import { isScalar, LineCounter, parseDocument, type Document } from "yaml";
import { locate } from "../config/locate.ts";
import { DiscoveryRuleSchema, ResourceRulesSchema } from "../config/schema.ts";
import type { DiscoveryRule, ResourceRules } from "../config/schema.ts";

export interface Position {
  readonly line: number;
  readonly col: number;
}

export type RuleList = "rules" | "externalRules";

export class ConfigDocument {
  readonly file: string;
  readonly text: string;
  readonly #doc: Document;
  readonly #lines = new LineCounter();
  readonly #data: unknown;

  constructor(text: string, file: string) {
    this.file = file;
    this.text = text;
    // The loader's settings, so positions agree with its messages.
    this.#doc = parseDocument(text, {
      lineCounter: this.#lines,
      version: "1.1",
      uniqueKeys: false,
      prettyErrors: false,
    });
    let data: unknown;
    try {
      data = this.#doc.errors.length > 0 ? undefined : this.#doc.toJS({ maxAliasCount: 1000 });
    } catch {
      data = undefined;
    }
    this.#data = data;
  }

  /** Where the value at `path` is written (its key with `atKey`), or the nearest ancestor. */
  position(path: readonly PropertyKey[], o: { readonly atKey?: boolean } = {}): Position {
    const loc = locate(this.#doc, path);
    const offset = o.atKey === true ? (loc.keyOffset ?? loc.offset) : loc.offset;
    return this.#at(offset);
  }

  /**
   * Where `pattern` first matches inside the scalar written at `path` (searching from `from`
   * characters into it), or the scalar's own position when the text cannot be found there, e.g.
   * because of escapes or folding.
   */
  positionIn(
    path: readonly PropertyKey[],
    pattern: RegExp,
    from = 0,
  ): Position & { readonly next: number } {
    const node = this.#doc.getIn(path, true);
    const range = isScalar(node) ? node.range : undefined;
    if (range) {
      const source = this.text.slice(range[0], range[1]);
      const re = new RegExp(pattern.source, pattern.flags.replace("g", "") + "g");
      re.lastIndex = from;
      const m = re.exec(source);
      if (m) return { ...this.#at(range[0] + m.index), next: m.index + m[0].length };
    }
    return { ...this.position(path), next: from };
  }

  #at(offset: number): Position {
    const p = this.#lines.linePos(offset);
    return { line: p.line, col: p.col };
  }

  /** The rules of `list` that have the right shape (undefined for the others), in file order. */
  rules(list: RuleList): (DiscoveryRule | undefined)[] {
    const raw = this.#get(list);
    if (!Array.isArray(raw)) return [];
    return raw.map((r: unknown) => {
      const parsed = DiscoveryRuleSchema.safeParse(stringScalars(r));
      return parsed.success ? parsed.data : undefined;
    });
  }

  resourceRules(): ResourceRules | undefined {
    const parsed = ResourceRulesSchema.safeParse(stringScalars(this.#get("resourceRules")));
    return parsed.success ? parsed.data : undefined;
  }

  #get(key: string): unknown {
    const d = this.#data;
    return d !== null && typeof d === "object" ? (d as Record<string, unknown>)[key] : undefined;
  }
}

/**
 * Numbers written plainly where the config wants text (`as: 404`) are text for the adapter too
 * (the loader reads them that way); null values are absent keys.
 */
function stringScalars(v: unknown, key?: string): unknown {
  if (Array.isArray(v)) return v.map((x) => stringScalars(x));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x !== null && x !== undefined) out[k] = stringScalars(x, k);
    }
    return out;
  }
  if (typeof v === "number" || (typeof v === "boolean" && key !== "namespaced")) return String(v);
  return v;
}
