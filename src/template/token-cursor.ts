/**
 * @module template/token-cursor
 * The parser's view of the lexer's items, mirroring Go's text/template/parse/parse.go helpers:
 * next/backup/peek (skipping spaces on request), `expect`, and parse errors that point at the token
 * read last, with the "in action started at" hint for lexer errors inside a multi-line action.
 */

import { parseError, positionOf } from "./errors.ts";
import type { TemplateError } from "./errors.ts";
import { itemString } from "./lexer.ts";
import type { Item, ItemType } from "./lexer.ts";

/** A position in the item list; parser.ts's Parser extends it with the grammar. */
export abstract class TokenCursor {
  private readonly items: Item[];
  private readonly name: string;
  private readonly text: string;
  protected i = 0;
  /** The token read last; errors point at it, as Go's `t.token[0]`. */
  private current: Item;
  /** Where the action being parsed started, for "in action started at" hints. */
  protected actionPos: number | undefined;

  constructor(name: string, text: string, items: Item[]) {
    this.items = items;
    this.name = name;
    this.text = text;
    this.current = this.items[0] ?? { type: "eof", pos: 0, val: "" };
  }

  private at(i: number): Item {
    return this.items[Math.min(i, this.items.length - 1)] ?? this.current;
  }

  protected next(): Item {
    this.current = this.at(this.i);
    this.i++;
    return this.current;
  }

  protected backup(): void {
    this.i--;
  }

  protected peek(): Item {
    return this.at(this.i);
  }

  protected nextNonSpace(): Item {
    let token = this.next();
    while (token.type === "space") token = this.next();
    return token;
  }

  protected peekNonSpace(): Item {
    const token = this.nextNonSpace();
    this.backup();
    return token;
  }

  protected errorf(message: string, pos: number = this.current.pos): TemplateError {
    return parseError(this.name, this.text, pos, message);
  }

  protected unexpected(token: Item, context: string): TemplateError {
    if (token.type === "error") {
      let extra = "";
      const start = this.actionPos;
      if (start !== undefined) {
        const startLine = positionOf(this.text, start).line;
        if (startLine !== positionOf(this.text, token.pos).line) {
          extra = ` in action started at ${this.name}:${startLine}`;
          // Avoid "unclosed action in action started at".
          if (token.val.endsWith(" action")) extra = extra.slice(" in action".length);
        }
      }
      return this.errorf(token.val + extra, token.pos);
    }
    return this.errorf(`unexpected ${itemString(token)} in ${context}`, token.pos);
  }

  protected expect(type: ItemType, context: string): Item {
    const token = this.nextNonSpace();
    if (token.type !== type) throw this.unexpected(token, context);
    return token;
  }
}
