/**
 * @module apimachinery/label-selector-parser
 * labels.Parse, ported from apimachinery `pkg/labels/selector.go`: the same lexer, parser and error
 * texts, giving the requirements sorted by key.
 */

import {
  BINARY_OPERATORS,
  LabelSelector,
  LabelSelectorError,
  newRequirement,
  sortedUnique,
  validateKey,
  type Requirement,
  type SelectorOperator,
} from "./label-selector.ts";

// --- Lexer (selector.go Lexer) ---------------------------------------------------------------

type Token =
  | "error"
  | "eos"
  | ")"
  | ","
  | "!"
  | "=="
  | "="
  | ">"
  | "identifier"
  | "in"
  | "<"
  | "!="
  | "notin"
  | "(";

interface ScannedItem {
  readonly tok: Token;
  readonly literal: string;
}

const STRING_TO_TOKEN: ReadonlyMap<string, Token> = new Map<string, Token>([
  [")", ")"],
  [",", ","],
  ["!", "!"],
  ["==", "=="],
  ["=", "="],
  [">", ">"],
  ["in", "in"],
  ["<", "<"],
  ["!=", "!="],
  ["notin", "notin"],
  ["(", "("],
]);

function isWhitespace(ch: string): boolean {
  return ch === " " || ch === "\t" || ch === "\r" || ch === "\n";
}

function isSpecialSymbol(ch: string): boolean {
  return "=!(),><".includes(ch) && ch.length === 1;
}

const OPERATOR_TOKENS: ReadonlyMap<Token, SelectorOperator> = new Map<Token, SelectorOperator>([
  ["in", "in"],
  ["=", "="],
  ["==", "=="],
  [">", "gt"],
  ["<", "lt"],
  ["notin", "notin"],
  ["!=", "!="],
]);

/** Go's lexer reads bytes and treats a 0 byte as end of input; "\0" plays that role here. */
const END = "\0";

class Lexer {
  private pos = 0;
  private readonly s: string;

  constructor(s: string) {
    this.s = s;
  }

  private read(): string {
    if (this.pos < this.s.length) {
      const ch = this.s[this.pos] ?? END;
      this.pos++;
      return ch;
    }
    return END;
  }

  private unread(): void {
    this.pos--;
  }

  private scanIdOrKeyword(): ScannedItem {
    let buffer = "";
    for (;;) {
      const ch = this.read();
      if (ch === END) break;
      if (isSpecialSymbol(ch) || isWhitespace(ch)) {
        this.unread();
        break;
      }
      buffer += ch;
    }
    const tok = STRING_TO_TOKEN.get(buffer);
    return tok ? { tok, literal: buffer } : { tok: "identifier", literal: buffer };
  }

  private scanSpecialSymbol(): ScannedItem {
    let last: ScannedItem | undefined;
    let buffer = "";
    for (;;) {
      const ch = this.read();
      if (ch === END) break;
      if (!isSpecialSymbol(ch)) {
        this.unread();
        break;
      }
      buffer += ch;
      const tok = STRING_TO_TOKEN.get(buffer);
      if (tok) {
        last = { tok, literal: buffer };
      } else if (last) {
        this.unread();
        break;
      }
    }
    return last ?? { tok: "error", literal: `error expected: keyword found '${buffer}'` };
  }

  lex(): ScannedItem {
    let ch = this.read();
    while (isWhitespace(ch)) ch = this.read();
    if (ch === END) return { tok: "eos", literal: "" };
    this.unread();
    return isSpecialSymbol(ch) ? this.scanSpecialSymbol() : this.scanIdOrKeyword();
  }
}

// --- Parser (selector.go Parser) -------------------------------------------------------------

/** In a Values context, `in` and `notin` are ordinary identifiers ("x in (in)" is valid). */
type Context = "keyAndOperator" | "values";

class Parser {
  private readonly items: ScannedItem[] = [];
  private position = 0;

  constructor(input: string) {
    const lexer = new Lexer(input);
    for (;;) {
      const item = lexer.lex();
      this.items.push(item);
      if (item.tok === "eos") break;
    }
  }

  private at(index: number, context: Context): ScannedItem {
    // The scan always ends with eos and the parser never reads past it.
    const item = this.items[index] ?? { tok: "eos", literal: "" };
    if (context === "values" && (item.tok === "in" || item.tok === "notin")) {
      return { tok: "identifier", literal: item.literal };
    }
    return item;
  }

  private lookahead(context: Context): ScannedItem {
    return this.at(this.position, context);
  }

  private consume(context: Context): ScannedItem {
    this.position++;
    return this.at(this.position - 1, context);
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const { tok, literal } = this.lookahead("values");
      if (tok === "eos") return requirements;
      if (tok !== "identifier" && tok !== "!") {
        throw new LabelSelectorError(
          `found '${literal}', expected: !, identifier, or 'end of string'`,
        );
      }
      let req: Requirement;
      try {
        req = this.parseRequirement();
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new LabelSelectorError(`unable to parse requirement: ${message}`, { cause: err });
      }
      requirements.push(req);
      const next = this.consume("values");
      if (next.tok === "eos") return requirements;
      if (next.tok !== ",") {
        throw new LabelSelectorError(`found '${next.literal}', expected: ',' or 'end of string'`);
      }
      const after = this.lookahead("values");
      if (after.tok !== "identifier" && after.tok !== "!") {
        throw new LabelSelectorError(`found '${after.literal}', expected: identifier after ','`);
      }
    }
  }

  private parseRequirement(): Requirement {
    const { key, operator } = this.parseKeyAndInferOperator();
    if (operator === "exists" || operator === "!") return newRequirement(key, operator, []);
    const op = this.parseOperator();
    const values = op === "in" || op === "notin" ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, op, sortedUnique(values));
  }

  private parseKeyAndInferOperator(): { key: string; operator: SelectorOperator | undefined } {
    let operator: SelectorOperator | undefined;
    let item = this.consume("values");
    if (item.tok === "!") {
      operator = "!";
      item = this.consume("values");
    }
    if (item.tok !== "identifier") {
      throw new LabelSelectorError(`found '${item.literal}', expected: identifier`);
    }
    // Upstream validates here with a nil field path, which prints as "<nil>".
    const keyErr = validateKey(item.literal, "<nil>");
    if (keyErr) throw new LabelSelectorError(keyErr);
    const next = this.lookahead("values").tok;
    if ((next === "eos" || next === ",") && operator !== "!") operator = "exists";
    return { key: item.literal, operator };
  }

  private parseOperator(): SelectorOperator {
    const { tok, literal } = this.consume("keyAndOperator");
    const op = OPERATOR_TOKENS.get(tok);
    if (op === undefined) {
      throw new LabelSelectorError(`found '${literal}', expected: ${BINARY_OPERATORS.join(", ")}`);
    }
    return op;
  }

  private parseValues(): string[] {
    const open = this.consume("values");
    if (open.tok !== "(") throw new LabelSelectorError(`found '${open.literal}' expected: '('`);
    const { tok, literal } = this.lookahead("values");
    if (tok === ")") {
      this.consume("values");
      return [""];
    }
    if (tok !== "identifier" && tok !== ",") {
      throw new LabelSelectorError(`found '${literal}', expected: ',', ')' or identifier`);
    }
    const values = this.parseIdentifiersList();
    if (this.consume("values").tok !== ")") {
      // Upstream reports the token after '(' here, not the offending one.
      throw new LabelSelectorError(`found '${literal}', expected: ')'`);
    }
    return values;
  }

  private parseIdentifiersList(): string[] {
    const values = new Set<string>();
    for (;;) {
      const { tok, literal } = this.consume("values");
      if (tok === "identifier") {
        values.add(literal);
        const next = this.lookahead("values");
        if (next.tok === ",") continue;
        if (next.tok === ")") return [...values];
        throw new LabelSelectorError(`found '${next.literal}', expected: ',' or ')'`);
      }
      if (tok !== ",") {
        throw new LabelSelectorError(`found '${literal}', expected: ',', or identifier`);
      }
      // "(," ",)" and ",," each stand for an empty value.
      if (values.size === 0) values.add("");
      const next = this.lookahead("values").tok;
      if (next === ")") {
        values.add("");
        return [...values];
      }
      if (next === ",") {
        this.consume("values");
        values.add("");
      }
    }
  }

  private parseExactValue(): string[] {
    const next = this.lookahead("values").tok;
    if (next === "eos" || next === ",") return [""];
    const { tok, literal } = this.consume("values");
    if (tok === "identifier") return [literal];
    throw new LabelSelectorError(`found '${literal}', expected: identifier`);
  }
}

/**
 * labels.ParseToRequirements: the requirements sorted by key. Throws LabelSelectorError.
 *
 * @example parseRequirements("tier in (web,db),!canary")
 */
export function parseRequirements(selector: string): Requirement[] {
  return [...new LabelSelector(new Parser(selector).parse()).requirements];
}

/**
 * labels.Parse. Throws LabelSelectorError with upstream's message.
 *
 * @example parseLabelSelector("app=web,env!=dev").matches({ app: "web" }) === true
 */
export function parseLabelSelector(selector: string): LabelSelector {
  return new LabelSelector(new Parser(selector).parse());
}
