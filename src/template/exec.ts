/**
 * @module template/exec
 * Runs a parse tree against data, mirroring Go's text/template/exec.go: the statement walk (text,
 * actions, if/with/range with else, break and continue) over the evaluator's pipelines, variables
 * and error messages (evaluator.ts).
 */

import type { BranchNode, ListNode, Node } from "./ast.ts";
import { Evaluator } from "./evaluator.ts";
import { printForAction } from "./printing.ts";
import { isTrue, kindOf, normalize } from "./values.ts";
import type { GoMap, Value } from "./values.ts";

/** Unwinds a range iteration for {{break}} / {{continue}}. */
class LoopSignal extends Error {
  readonly kind: "break" | "continue";

  constructor(kind: "break" | "continue") {
    super(`{{${kind}}}`);
    this.kind = kind;
  }
}

export interface ExecInput {
  readonly name: string;
  readonly text: string;
  readonly root: ListNode;
}

class State extends Evaluator {
  out = "";

  walk(dot: Value, node: Node): void {
    this.at(node);
    switch (node.type) {
      case "list":
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case "text":
        this.out += node.text;
        return;
      case "action": {
        // Variables declared here live until the end of the enclosing control.
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) {
          this.at(node);
          this.out += printForAction(val);
        }
        return;
      }
      case "if":
      case "with":
        this.walkIfOrWith(dot, node);
        return;
      case "range":
        this.walkRange(dot, node);
        return;
      case "break":
      case "continue":
        throw new LoopSignal(node.type);
    }
  }

  private walkIfOrWith(dot: Value, node: BranchNode): void {
    const mark = this.mark();
    const val = this.evalPipeline(dot, node.pipe);
    if (isTrue(val)) this.walk(node.type === "with" ? val : dot, node.list);
    else if (node.elseList !== undefined) this.walk(dot, node.elseList);
    this.pop(mark);
  }

  private walkRange(dot: Value, node: BranchNode): void {
    this.at(node);
    const mark = this.mark();
    const val = this.evalPipeline(dot, node.pipe);
    const bodyMark = this.mark();
    const decl = node.pipe.decl;
    const one = (index: Value, elem: Value): boolean => {
      if (decl.length > 0) {
        const [first, second] = decl;
        if (node.pipe.isAssign) {
          // With two variables the index comes first; with one, the element.
          if (first !== undefined) this.setVar(first.ident[0] ?? "", second ? index : elem);
          if (second !== undefined) this.setVar(second.ident[0] ?? "", elem);
        } else {
          this.setTopVar(1, elem);
          if (second !== undefined) this.setTopVar(2, index);
        }
      }
      try {
        this.walk(elem, node.list);
      } catch (err) {
        if (!(err instanceof LoopSignal)) throw err;
        if (err.kind === "break") return false;
      } finally {
        this.pop(bodyMark);
      }
      return true;
    };
    let ran = false;
    switch (kindOf(val)) {
      case "slice": {
        const items = val as readonly unknown[];
        for (let i = 0; i < items.length; i++) {
          ran = true;
          if (!one(i, normalize(items[i]))) break;
        }
        break;
      }
      case "map": {
        const map = val as GoMap;
        const keys = [...map.entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        for (const key of keys) {
          ran = true;
          if (!one(key, normalize(map.entries.get(key)))) break;
        }
        break;
      }
      case "int": {
        // Go 1.22: {{range 3}} counts 0, 1, 2.
        if (decl.length > 1) {
          this.at(node);
          this.errorf(`can't use ${printForAction(val)} to iterate over more than one variable`);
        }
        for (let i = 0; i < (val as number); i++) {
          ran = true;
          if (!one(null, i)) break;
        }
        break;
      }
      case "invalid":
        // A nil map or slice: acts like an empty one.
        break;
      case "string":
      case "bool":
      case "float":
      case "struct":
      case "unsupported":
        this.at(node);
        this.errorf(`range can't iterate over ${printForAction(val)}`);
    }
    if (!ran && node.elseList !== undefined) this.walk(dot, node.elseList);
    this.pop(mark);
  }
}

/** Executes the tree with `data` as dot and `$`; throws TemplateError on failure. */
export function execute(input: ExecInput, data: unknown): string {
  const root = normalize(data);
  const state = new State(input.name, input.text, root);
  state.walk(root, input.root);
  return state.out;
}
