/**
 * @module template/lexer
 * Splits a template into items, mirroring Go's text/template/parse/lex.go: text, delimiters
 * (configurable, with `- ` / ` -` trim markers), comments, and the tokens inside actions. The
 * whole input is lexed up front; a lexing error ends the list with an "error" item that the parser
 * reports when it reaches it.
 */

import { quote } from "./go-strconv.ts";

export type ItemType =
  | "error"
  | "bool"
  | "char"
  | "charConstant"
  | "complex"
  | "assign"
  | "declare"
  | "eof"
  | "field"
  | "identifier"
  | "leftDelim"
  | "leftParen"
  | "number"
  | "pipe"
  | "rawString"
  | "rightDelim"
  | "rightParen"
  | "space"
  | "string"
  | "text"
  | "variable"
  // Keywords.
  | "block"
  | "break"
  | "continue"
  | "dot"
  | "define"
  | "else"
  | "end"
  | "if"
  | "nil"
  | "range"
  | "template"
  | "with";

export interface Item {
  readonly type: ItemType;
  /** UTF-16 offset of the item in the input. */
  readonly pos: number;
  readonly val: string;
}

const KEYWORDS: ReadonlyMap<string, ItemType> = new Map<string, ItemType>([
  [".", "dot"],
  ["block", "block"],
  ["break", "break"],
  ["continue", "continue"],
  ["define", "define"],
  ["else", "else"],
  ["end", "end"],
  ["if", "if"],
  ["nil", "nil"],
  ["range", "range"],
  ["template", "template"],
  ["with", "with"],
]);

const KEYWORD_TYPES: ReadonlySet<ItemType> = new Set(KEYWORDS.values());

/** Go's item.String(), used in "unexpected X in Y" messages. */
export function itemString(item: Item): string {
  if (item.type === "eof") return "EOF";
  if (item.type === "error") return item.val;
  if (KEYWORD_TYPES.has(item.type)) return `<${item.val}>`;
  const runes = Array.from(item.val);
  if (runes.length > 10) return `${quote(runes.slice(0, 10).join(""))}...`;
  return quote(item.val);
}

/** Go's `%#U`: `U+0023 '#'`. */
export function formatRune(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch) ? `${hex} '${ch}'` : hex;
}

const SPACE = new Set([" ", "\t", "\r", "\n"]);
const LEFT_COMMENT = "/*";
const RIGHT_COMMENT = "*/";

function isSpace(ch: string | undefined): boolean {
  return ch !== undefined && SPACE.has(ch);
}

function isAlphaNumeric(ch: string | undefined): boolean {
  return ch !== undefined && (ch === "_" || /^[\p{L}\p{Nd}]$/u.test(ch));
}

function runeAt(s: string, i: number): string | undefined {
  if (i >= s.length) return undefined;
  const cp = s.codePointAt(i);
  return cp === undefined ? undefined : String.fromCodePoint(cp);
}

class LexError extends Error {
  readonly pos: number;

  constructor(pos: number, message: string) {
    super(message);
    this.pos = pos;
  }
}

/** Lexes the whole input. The list always ends with an "eof" or "error" item. */
export function lex(input: string, leftDelim: string, rightDelim: string): Item[] {
  const items: Item[] = [];
  let pos = 0;

  const hasLeftTrimMarker = (at: number): boolean => input[at] === "-" && isSpace(input[at + 1]);
  const hasRightTrimMarker = (at: number): boolean => isSpace(input[at]) && input[at + 1] === "-";
  /** Is `at` on a right delimiter, possibly after a trim marker? */
  const atRightDelim = (at: number): { delim: boolean; trim: boolean } => {
    if (hasRightTrimMarker(at) && input.startsWith(rightDelim, at + 2)) {
      return { delim: true, trim: true };
    }
    return { delim: input.startsWith(rightDelim, at), trim: false };
  };
  const skipSpaces = (at: number): number => {
    let i = at;
    while (isSpace(input[i])) i++;
    return i;
  };
  const atTerminator = (at: number): boolean => {
    const ch = input[at];
    if (ch === undefined || isSpace(ch)) return true;
    if (".,|:()".includes(ch)) return true;
    return input.startsWith(rightDelim, at);
  };
  const scanAlphaNumeric = (at: number): number => {
    let i = at;
    for (let ch = runeAt(input, i); isAlphaNumeric(ch); ch = runeAt(input, i)) {
      i += ch?.length ?? 1;
    }
    return i;
  };
  const badCharacter = (start: number, at: number): LexError =>
    new LexError(start, `bad character ${formatRune(runeAt(input, at) ?? "")}`);

  /** Go's scanNumber: deliberately loose; the parser rejects what strconv would. */
  const scanNumber = (at: number): { ok: boolean; end: number } => {
    let i = at;
    const accept = (valid: string): boolean => {
      const ch = input[i];
      if (ch !== undefined && valid.includes(ch)) {
        i++;
        return true;
      }
      return false;
    };
    const acceptRun = (valid: string): void => {
      while (accept(valid));
    };
    accept("+-");
    let digits = "0123456789_";
    if (accept("0")) {
      if (accept("xX")) digits = "0123456789abcdefABCDEF_";
      else if (accept("oO")) digits = "01234567_";
      else if (accept("bB")) digits = "01_";
    }
    acceptRun(digits);
    if (accept(".")) acceptRun(digits);
    if (digits.length === 11 && accept("eE")) {
      accept("+-");
      acceptRun("0123456789_");
    }
    if (digits.length === 23 && accept("pP")) {
      accept("+-");
      acceptRun("0123456789_");
    }
    accept("i");
    if (isAlphaNumeric(runeAt(input, i))) return { ok: false, end: i + 1 };
    return { ok: true, end: i };
  };

  /** Scans a quoted literal from its opening quote; returns the end offset. */
  const scanQuoted = (start: number, q: string, unterminated: string): number => {
    let i = start + 1;
    for (;;) {
      const ch = input[i];
      if (ch === "\\") {
        const next = input[i + 1];
        if (next !== undefined && next !== "\n") {
          i += 2;
          continue;
        }
        throw new LexError(start, unterminated);
      }
      if (ch === undefined || ch === "\n") throw new LexError(start, unterminated);
      i++;
      if (ch === q) return i;
    }
  };

  /** Lexes inside one action, from just after the left delimiter; returns where text resumes. */
  const lexAction = (from: number): number => {
    let i = from;
    let parenDepth = 0;
    for (;;) {
      const { delim, trim } = atRightDelim(i);
      if (delim) {
        if (parenDepth !== 0) throw new LexError(i, "unclosed left paren");
        if (trim) i += 2;
        items.push({ type: "rightDelim", pos: i, val: rightDelim });
        i += rightDelim.length;
        return trim ? skipSpaces(i) : i;
      }
      const start = i;
      const ch = runeAt(input, i);
      if (ch === undefined) throw new LexError(start, "unclosed action");
      if (isSpace(ch)) {
        let end = skipSpaces(i);
        // A trim-marked right delimiter starts with a space; leave that space to it.
        if (hasRightTrimMarker(end - 1) && input.startsWith(rightDelim, end + 1)) {
          end--;
          if (end === start) continue;
        }
        items.push({ type: "space", pos: start, val: input.slice(start, end) });
        i = end;
        continue;
      }
      switch (ch) {
        case "=":
          items.push({ type: "assign", pos: start, val: ch });
          i++;
          continue;
        case ":":
          if (input[i + 1] !== "=") throw new LexError(start, "expected :=");
          items.push({ type: "declare", pos: start, val: ":=" });
          i += 2;
          continue;
        case "|":
          items.push({ type: "pipe", pos: start, val: ch });
          i++;
          continue;
        case '"':
        case "'": {
          const type = ch === '"' ? "string" : "charConstant";
          const msg = ch === '"' ? "unterminated quoted string" : "unterminated character constant";
          const end = scanQuoted(start, ch, msg);
          items.push({ type, pos: start, val: input.slice(start, end) });
          i = end;
          continue;
        }
        case "`": {
          const close = input.indexOf("`", start + 1);
          if (close < 0) throw new LexError(start, "unterminated raw quoted string");
          items.push({ type: "rawString", pos: start, val: input.slice(start, close + 1) });
          i = close + 1;
          continue;
        }
        case "$":
        case ".": {
          const next = input[i + 1];
          if (ch === "." && next !== undefined && next >= "0" && next <= "9") break;
          const type = ch === "$" ? "variable" : "field";
          if (atTerminator(i + 1)) {
            items.push({ type: type === "field" ? "dot" : type, pos: start, val: ch });
            i++;
            continue;
          }
          const end = scanAlphaNumeric(i + 1);
          if (!atTerminator(end)) throw badCharacter(start, end);
          items.push({ type, pos: start, val: input.slice(start, end) });
          i = end;
          continue;
        }
        case "(":
          parenDepth++;
          items.push({ type: "leftParen", pos: start, val: ch });
          i++;
          continue;
        case ")":
          parenDepth--;
          if (parenDepth < 0) throw new LexError(start, "unexpected right paren");
          items.push({ type: "rightParen", pos: start, val: ch });
          i++;
          continue;
      }
      if (ch === "+" || ch === "-" || ch === "." || (ch >= "0" && ch <= "9")) {
        const first = scanNumber(i);
        const bad = (end: number): LexError =>
          new LexError(start, `bad number syntax: ${quote(input.slice(start, end))}`);
        if (!first.ok) throw bad(first.end);
        let end = first.end;
        let type: ItemType = "number";
        const sign = input[end];
        if (sign === "+" || sign === "-") {
          // A complex constant such as 1+2i: no spaces, must end in 'i'.
          const second = scanNumber(end);
          if (!second.ok || input[second.end - 1] !== "i") throw bad(second.end);
          end = second.end;
          type = "complex";
        }
        items.push({ type, pos: start, val: input.slice(start, end) });
        i = end;
        continue;
      }
      if (isAlphaNumeric(ch)) {
        const end = scanAlphaNumeric(i);
        if (!atTerminator(end)) throw badCharacter(start, end);
        const word = input.slice(start, end);
        const keyword = KEYWORDS.get(word);
        const type: ItemType =
          keyword ?? (word === "true" || word === "false" ? "bool" : "identifier");
        items.push({ type, pos: start, val: word });
        i = end;
        continue;
      }
      const cp = ch.codePointAt(0) ?? 0;
      if (cp < 0x7f && cp >= 0x20) {
        items.push({ type: "char", pos: start, val: ch });
        i++;
        continue;
      }
      throw new LexError(start, `unrecognized character in action: ${formatRune(ch)}`);
    }
  };

  try {
    for (;;) {
      const x = input.indexOf(leftDelim, pos);
      if (x < 0) {
        if (pos < input.length) items.push({ type: "text", pos, val: input.slice(pos) });
        items.push({ type: "eof", pos: input.length, val: "" });
        return items;
      }
      const afterDelim = x + leftDelim.length;
      const trimLeft = hasLeftTrimMarker(afterDelim);
      const text = input.slice(pos, x);
      const kept = trimLeft ? text.replace(/[ \t\r\n]+$/, "") : text;
      if (kept.length > 0) items.push({ type: "text", pos, val: kept });
      const inner = afterDelim + (trimLeft ? 2 : 0);
      if (input.startsWith(LEFT_COMMENT, inner)) {
        const close = input.indexOf(RIGHT_COMMENT, inner + LEFT_COMMENT.length);
        if (close < 0) throw new LexError(inner, "unclosed comment");
        const afterComment = close + RIGHT_COMMENT.length;
        const { delim, trim } = atRightDelim(afterComment);
        if (!delim) throw new LexError(inner, "comment ends before closing delimiter");
        pos = afterComment + (trim ? 2 : 0) + rightDelim.length;
        if (trim) pos = skipSpaces(pos);
        continue;
      }
      items.push({ type: "leftDelim", pos: x, val: leftDelim });
      pos = lexAction(inner);
    }
  } catch (err) {
    if (!(err instanceof LexError)) throw err;
    items.push({ type: "error", pos: err.pos, val: err.message });
    return items;
  }
}
