/**
 * @module template/parser
 * Builds the parse tree from lexer items, mirroring Go's text/template/parse/parse.go: the same
 * grammar, the same checks (defined functions, declared variables, `{{break}}` inside `{{range}}`)
 * and the same messages. `define`, `template` and `block` are rejected: prometheus-adapter
 * templates are single, unnamed templates. Reading items and reporting errors is token-cursor.ts.
 */

import type {
  ArgNode,
  BranchNode,
  CommandNode,
  ListNode,
  Node,
  NumberNode,
  PipeNode,
  VariableNode,
} from "./ast.ts";
import { nodeString } from "./ast.ts";
import { BUILTINS, UNSUPPORTED_BUILTINS } from "./functions.ts";
import { quote, unquote } from "./go-strconv.ts";
import { lex } from "./lexer.ts";
import type { Item, ItemType } from "./lexer.ts";
import { parseNumber } from "./number.ts";
import { TokenCursor } from "./token-cursor.ts";

/** Go's parse.maxStackDepth: nesting limit for parenthesized pipelines. */
const MAX_STACK_DEPTH = 10000;

/** `{{end}}` and `{{else}}` end an item list; they never reach the tree. */
interface Delimiter {
  readonly type: "end" | "else";
  readonly pos: number;
}

const OPERAND_TYPES = [
  "bool",
  "charConstant",
  "complex",
  "dot",
  "field",
  "identifier",
  "number",
  "nil",
  "rawString",
  "string",
  "variable",
  "leftParen",
] as const satisfies readonly ItemType[];

type OperandType = (typeof OPERAND_TYPES)[number];

const OPERAND_START: ReadonlySet<ItemType> = new Set<ItemType>(OPERAND_TYPES);

/** Items that can start an operand. */
function isOperandType(t: ItemType): t is OperandType {
  return OPERAND_START.has(t);
}

/** Operands that cannot take a piped-in argument. */
const NOT_EXECUTABLE: ReadonlySet<ArgNode["type"]> = new Set<ArgNode["type"]>([
  "bool",
  "dot",
  "nil",
  "number",
  "string",
]);

/** `1.5i`: Go reads it as complex when the part before the `i` is a float. */
function isImaginary(text: string): boolean {
  if (!text.endsWith("i")) return false;
  try {
    return parseNumber(text.slice(0, -1), false).isFloat;
  } catch {
    return false;
  }
}

function isDelimiter(n: Node | Delimiter): n is Delimiter {
  return n.type === "end" || n.type === "else";
}

export interface ParseInput {
  readonly name: string;
  readonly text: string;
  readonly leftDelim: string;
  readonly rightDelim: string;
}

class Parser extends TokenCursor {
  private readonly vars: string[] = ["$"];
  private rangeDepth = 0;
  private stackDepth = 0;

  constructor(input: ParseInput) {
    super(input.name, input.text, lex(input.text, input.leftDelim, input.rightDelim));
  }

  parse(): ListNode {
    const root: ListNode = { type: "list", pos: this.peek().pos, nodes: [] };
    while (this.peek().type !== "eof") {
      const n = this.textOrAction();
      if (isDelimiter(n)) throw this.errorf(`unexpected {{${n.type}}}`, n.pos);
      root.nodes.push(n);
    }
    return root;
  }

  /** textOrAction* up to `{{end}}` or `{{else}}`, which is returned separately. */
  private itemList(): { list: ListNode; next: Delimiter } {
    const list: ListNode = { type: "list", pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== "eof") {
      const n = this.textOrAction();
      if (isDelimiter(n)) return { list, next: n };
      list.nodes.push(n);
    }
    throw this.errorf("unexpected EOF");
  }

  private textOrAction(): Node | Delimiter {
    const token = this.nextNonSpace();
    if (token.type === "text") return { type: "text", pos: token.pos, text: token.val };
    if (token.type !== "leftDelim") throw this.unexpected(token, "input");
    this.actionPos = token.pos;
    try {
      return this.action();
    } finally {
      this.actionPos = undefined;
    }
  }

  private action(): Node | Delimiter {
    const token = this.nextNonSpace();
    const t = token.type;
    if (t === "block" || t === "define" || t === "template") {
      throw this.errorf(
        `{{${token.val}}} is not supported by k8s-custom-metrics (one template per field)`,
        token.pos,
      );
    }
    if (t === "break" || t === "continue") return this.breakControl(token);
    if (t === "else") return this.elseControl(token.pos);
    if (t === "end") {
      this.expect("rightDelim", "end");
      return { type: "end", pos: token.pos };
    }
    if (t === "if" || t === "range" || t === "with") return this.control(t);
    this.backup();
    const pipe = this.pipeline("command", "rightDelim");
    return { type: "action", pos: pipe.pos, pipe };
  }

  private breakControl(keyword: Item): Node {
    const context = `{{${keyword.val}}}`;
    const token = this.nextNonSpace();
    if (token.type !== "rightDelim") throw this.unexpected(token, context);
    if (this.rangeDepth === 0) throw this.errorf(`${context} outside {{range}}`, keyword.pos);
    return { type: keyword.type === "break" ? "break" : "continue", pos: keyword.pos };
  }

  private elseControl(pos: number): Delimiter {
    const peek = this.peekNonSpace();
    // `{{else if ...}}` and `{{else with ...}}` leave the keyword for control() to read.
    if (peek.type !== "if" && peek.type !== "with") this.expect("rightDelim", "else");
    return { type: "else", pos };
  }

  private control(context: "if" | "range" | "with"): BranchNode {
    const savedVars = this.vars.length;
    const pipe = this.pipeline(context, "rightDelim");
    if (context === "range") this.rangeDepth++;
    const { list, next } = this.itemList();
    if (context === "range") this.rangeDepth--;
    let elseList: ListNode | undefined;
    if (next.type === "else") {
      const peek = this.peek();
      if ((context === "if" || context === "with") && peek.type === context) {
        // {{if a}}x{{else if b}}y{{end}} is {{if a}}x{{else}}{{if b}}y{{end}}{{end}}.
        this.next();
        elseList = { type: "list", pos: next.pos, nodes: [this.control(context)] };
      } else {
        const rest = this.itemList();
        if (rest.next.type !== "end") {
          throw this.errorf(`expected end; found {{else}}`, rest.next.pos);
        }
        elseList = rest.list;
      }
    }
    this.vars.length = savedVars;
    return { type: context, pos: pipe.pos, pipe, list, elseList };
  }

  /** declarations? command ('|' command)* */
  private pipeline(context: string, end: ItemType): PipeNode {
    const pipe: PipeNode = {
      type: "pipe",
      pos: this.peekNonSpace().pos,
      isAssign: false,
      decl: [],
      cmds: [],
    };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== "variable") break;
      const restart = this.i;
      this.next();
      const next = this.peekNonSpace();
      if (next.type === "assign" || next.type === "declare") {
        pipe.isAssign = next.type === "assign";
        this.nextNonSpace();
        pipe.decl.push(this.variable(v));
        this.vars.push(v.val);
        break;
      }
      if (next.type === "char" && next.val === ",") {
        this.nextNonSpace();
        pipe.decl.push(this.variable(v));
        this.vars.push(v.val);
        if (context === "range" && pipe.decl.length < 2) {
          const after = this.peekNonSpace().type;
          if (after === "variable" || after === "rightDelim" || after === "rightParen") continue;
          throw this.errorf("range can only initialize variables");
        }
        throw this.errorf(`too many declarations in ${context}`);
      }
      // Not a declaration: `$x` is the first operand.
      this.i = restart;
      break;
    }
    for (;;) {
      const token = this.nextNonSpace();
      if (token.type === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      if (!OPERAND_START.has(token.type)) throw this.unexpected(token, context);
      this.backup();
      pipe.cmds.push(this.command());
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) throw this.errorf(`missing value for ${context}`);
    // Only the first stage may start with a value that cannot take the piped argument.
    pipe.cmds.slice(1).forEach((cmd, i) => {
      const first = cmd.args[0];
      if (first !== undefined && NOT_EXECUTABLE.has(first.type)) {
        throw this.errorf(`non executable command in pipeline stage ${i + 2}`, first.pos);
      }
    });
  }

  /** operand (space operand)*, up to '|', a right delimiter or a right paren. */
  private command(): CommandNode {
    const cmd: CommandNode = { type: "command", pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== undefined) cmd.args.push(operand);
      const token = this.next();
      if (token.type === "space") continue;
      if (token.type === "rightDelim" || token.type === "rightParen") this.backup();
      else if (token.type !== "pipe") throw this.unexpected(token, "operand");
      break;
    }
    if (cmd.args.length === 0) throw this.errorf("empty command");
    return cmd;
  }

  /** term .Field* */
  private operand(): ArgNode | undefined {
    const node = this.term();
    if (node === undefined || this.peek().type !== "field") return node;
    const fields: string[] = [];
    while (this.peek().type === "field") fields.push(this.next().val.slice(1));
    switch (node.type) {
      case "field":
        return { type: "field", pos: node.pos, ident: [...node.ident, ...fields] };
      case "variable":
        return { type: "variable", pos: node.pos, ident: [...node.ident, ...fields] };
      case "bool":
      case "string":
      case "number":
      case "nil":
      case "dot":
        throw this.errorf(`unexpected . after term ${quote(nodeString(node))}`);
      case "chain":
      case "identifier":
      case "pipe":
        return { type: "chain", pos: node.pos, node, field: fields };
    }
  }

  /** A literal, function name, `.`, `.Field`, `$var` or `( pipeline )`. */
  private term(): ArgNode | undefined {
    const token = this.nextNonSpace();
    const t = token.type;
    if (!isOperandType(t)) {
      this.backup();
      return undefined;
    }
    switch (t) {
      case "identifier":
        if (UNSUPPORTED_BUILTINS.has(token.val)) {
          throw this.errorf(`function ${quote(token.val)} is not supported by k8s-custom-metrics`);
        }
        if (!BUILTINS.has(token.val)) {
          throw this.errorf(`function ${quote(token.val)} not defined`);
        }
        return { type: "identifier", pos: token.pos, ident: token.val };
      case "dot":
        return { type: "dot", pos: token.pos };
      case "nil":
        return { type: "nil", pos: token.pos };
      case "variable": {
        const v = this.variable(token);
        if (!this.vars.includes(token.val)) {
          throw this.errorf(`undefined variable ${quote(token.val)}`);
        }
        return v;
      }
      case "field":
        return { type: "field", pos: token.pos, ident: [token.val.slice(1)] };
      case "bool":
        return { type: "bool", pos: token.pos, value: token.val === "true" };
      case "charConstant":
      case "complex":
      case "number":
        return this.number(token);
      case "leftParen": {
        if (this.stackDepth >= MAX_STACK_DEPTH) throw this.errorf("max expression depth exceeded");
        this.stackDepth++;
        try {
          return this.pipeline("parenthesized pipeline", "rightParen");
        } finally {
          this.stackDepth--;
        }
      }
      case "string":
      case "rawString": {
        const text = unquote(token.val);
        if (text === undefined) throw this.errorf("invalid syntax");
        return { type: "string", pos: token.pos, quoted: token.val, text };
      }
    }
  }

  private variable(token: Item): VariableNode {
    return { type: "variable", pos: token.pos, ident: [token.val] };
  }

  private number(token: Item): NumberNode {
    if (token.type === "complex" || (token.type === "number" && isImaginary(token.val))) {
      throw this.errorf(
        `complex constant ${token.val} is not supported by k8s-custom-metrics`,
        token.pos,
      );
    }
    try {
      const n = parseNumber(token.val, token.type === "charConstant");
      return { type: "number", pos: token.pos, text: token.val, ...n };
    } catch (err) {
      throw this.errorf(err instanceof Error ? err.message : String(err), token.pos);
    }
  }
}

/** Parses a template; throws TemplateError with Go's messages and a line:col. */
export function parse(input: ParseInput): ListNode {
  return new Parser(input).parse();
}
