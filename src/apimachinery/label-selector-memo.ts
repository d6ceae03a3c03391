/**
 * @module apimachinery/label-selector-memo
 * Label selectors parsed once per distinct text. An HPA asks with the same selector at every
 * sync, and a fleet's requests carry a few hundred distinct ones: parsing each again cost a
 * lexer, a parser and their arrays per request.
 *
 * A kept selector is shared by every request with the same text, so it is frozen, requirements
 * and values included: no caller can change what another one reads. A text that does not parse
 * is not kept; it throws the parser's LabelSelectorError every time.
 */
import { LabelSelector, type Requirement } from "./label-selector.ts";
import { parseLabelSelector } from "./label-selector-parser.ts";

/** Selectors kept at most; past it the oldest goes first. */
export const LABEL_SELECTOR_MEMO_SIZE = 4096;

function frozen(s: LabelSelector): LabelSelector {
  for (const r of s.requirements) {
    Object.freeze(r.values);
    Object.freeze(r);
  }
  Object.freeze(s.requirements);
  return Object.freeze(s);
}

export class LabelSelectorMemo {
  readonly #kept = new Map<string, LabelSelector>();
  readonly #size: number;

  constructor(size = LABEL_SELECTOR_MEMO_SIZE) {
    this.#size = size;
  }

  /** labels.Parse of `text` (frozen). Throws LabelSelectorError as the parser does. */
  parse(text: string): LabelSelector {
    const kept = this.#kept.get(text);
    if (kept) return kept;
    const s = frozen(parseLabelSelector(text));
    if (this.#kept.size >= this.#size) {
      const oldest = this.#kept.keys().next();
      if (oldest.done !== true) this.#kept.delete(oldest.value);
    }
    this.#kept.set(text, s);
    return s;
  }

  /** labels.ParseToRequirements of `text`: the requirements sorted by key (frozen). */
  requirements(text: string): readonly Requirement[] {
    return this.parse(text).requirements;
  }

  get size(): number {
    return this.#kept.size;
  }
}
