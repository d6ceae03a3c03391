/**
 * @module template/ast
 * The parse tree, shaped like Go's text/template/parse/node.go, and `nodeString`, which prints a
 * node the way Go's `Node.String()` does (execution errors quote it as `at <...>`).
 */

interface At {
  /** UTF-16 offset in the template text. */
  readonly pos: number;
}

export interface ListNode extends At {
  readonly type: "list";
  readonly nodes: Node[];
}

export interface TextNode extends At {
  readonly type: "text";
  readonly text: string;
}

export interface ActionNode extends At {
  readonly type: "action";
  readonly pipe: PipeNode;
}

export interface BranchNode extends At {
  readonly type: "if" | "range" | "with";
  readonly pipe: PipeNode;
  readonly list: ListNode;
  readonly elseList: ListNode | undefined;
}

export interface BreakNode extends At {
  readonly type: "break" | "continue";
}

export type Node = ListNode | TextNode | ActionNode | BranchNode | BreakNode;

export interface PipeNode extends At {
  readonly type: "pipe";
  /** `$x = ...` (true) or `$x := ...` (false). */
  isAssign: boolean;
  readonly decl: VariableNode[];
  readonly cmds: CommandNode[];
}

export interface CommandNode extends At {
  readonly type: "command";
  readonly args: ArgNode[];
}

export interface FieldNode extends At {
  readonly type: "field";
  /** `.A.B` is ["A", "B"]. */
  readonly ident: readonly string[];
}

export interface VariableNode extends At {
  readonly type: "variable";
  /** `$x.A` is ["$x", "A"]. */
  readonly ident: readonly string[];
}

export interface ChainNode extends At {
  readonly type: "chain";
  readonly node: ArgNode;
  readonly field: readonly string[];
}

export interface IdentifierNode extends At {
  readonly type: "identifier";
  readonly ident: string;
}

export interface DotNode extends At {
  readonly type: "dot";
}

export interface NilNode extends At {
  readonly type: "nil";
}

export interface BoolNode extends At {
  readonly type: "bool";
  readonly value: boolean;
}

export interface NumberNode extends At {
  readonly type: "number";
  /** The literal as written. */
  readonly text: string;
  readonly isInt: boolean;
  readonly isUint: boolean;
  readonly isFloat: boolean;
  readonly int: number;
  readonly float: number;
}

export interface StringNode extends At {
  readonly type: "string";
  /** The literal as written, quotes included. */
  readonly quoted: string;
  readonly text: string;
}

export type ArgNode =
  | FieldNode
  | VariableNode
  | ChainNode
  | IdentifierNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode
  | PipeNode;

export type AnyNode = Node | ArgNode | CommandNode;

function listString(list: ListNode): string {
  return list.nodes.map(nodeString).join("");
}

/** Go's Node.String(). */
export function nodeString(node: AnyNode): string {
  switch (node.type) {
    case "list":
      return listString(node);
    case "text":
      return node.text;
    case "action":
      return `{{${nodeString(node.pipe)}}}`;
    case "if":
    case "range":
    case "with": {
      const elsePart = node.elseList === undefined ? "" : `{{else}}${listString(node.elseList)}`;
      return `{{${node.type} ${nodeString(node.pipe)}}}${listString(node.list)}${elsePart}{{end}}`;
    }
    case "break":
    case "continue":
      return `{{${node.type}}}`;
    case "pipe": {
      let out = "";
      if (node.decl.length > 0) {
        out = node.decl.map(nodeString).join(", ") + (node.isAssign ? " = " : " := ");
      }
      return out + node.cmds.map(nodeString).join(" | ");
    }
    case "command":
      return node.args
        .map((arg) => (arg.type === "pipe" ? `(${nodeString(arg)})` : nodeString(arg)))
        .join(" ");
    case "field":
      return node.ident.map((id) => `.${id}`).join("");
    case "variable":
      return node.ident.join(".");
    case "chain": {
      const inner =
        node.node.type === "pipe" ? `(${nodeString(node.node)})` : nodeString(node.node);
      return inner + node.field.map((f) => `.${f}`).join("");
    }
    case "identifier":
      return node.ident;
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "bool":
      return String(node.value);
    case "number":
      return node.text;
    case "string":
      return node.quoted;
  }
}
