/**
 * @module template/exec
 * Runs a parse tree against data, mirroring Go's text/template/exec.go: dot and `$` variables,
 * if/with/range (with else, break, continue), pipelines where the previous stage's value is the
 * last argument, short-circuit and/or, and Go's execution error messages.
 */

import { nodeString } from "./ast.ts";
import type {
  AnyNode,
  ArgNode,
  BranchNode,
  ChainNode,
  CommandNode,
  FieldNode,
  IdentifierNode,
  ListNode,
  Node,
  NumberNode,
  PipeNode,
  VariableNode,
} from "./ast.ts";
import { execError } from "./errors.ts";
import { BUILTINS, FuncError } from "./functions.ts";
import type { ParamKind } from "./functions.ts";
import { printForAction } from "./printing.ts";
import { GoFloat, GoMap, GoStruct, isTrue, kindOf, normalize, typeName } from "./values.ts";
import type { Value } from "./values.ts";

/** "No value from a previous pipeline stage" (Go's missingVal), distinct from nil. */
const MISSING = Symbol("missing");
type Final = Value | typeof MISSING;

/** Unwinds a range iteration for {{break}} / {{continue}}. */
class LoopSignal extends Error {
  readonly kind: "break" | "continue";

  constructor(kind: "break" | "continue") {
    super(`{{${kind}}}`);
    this.kind = kind;
  }
}

interface Variable {
  readonly name: string;
  value: Value;
}

export interface ExecInput {
  readonly name: string;
  readonly text: string;
  readonly root: ListNode;
}

class State {
  private readonly name: string;
  private readonly text: string;
  private readonly vars: Variable[];
  /** The node being evaluated, for error context. */
  private node: AnyNode | undefined;
  out = "";

  constructor(input: ExecInput, data: Value) {
    this.name = input.name;
    this.text = input.text;
    this.vars = [{ name: "$", value: data }];
  }

  private at(node: AnyNode): void {
    this.node = node;
  }

  private errorf(detail: string): never {
    const node = this.node;
    if (node === undefined) throw execError(this.name, this.text, 0, "", detail);
    throw execError(this.name, this.text, node.pos, nodeString(node), detail);
  }

  private mark(): number {
    return this.vars.length;
  }

  private pop(mark: number): void {
    this.vars.length = mark;
  }

  private push(name: string, value: Value): void {
    this.vars.push({ name, value });
  }

  /** Overwrites the nearest variable with that name (`$x = ...`). */
  private setVar(name: string, value: Value): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) {
        v.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  /** Sets the n-th variable from the top (range's freshly declared variables). */
  private setTopVar(n: number, value: Value): void {
    const v = this.vars[this.vars.length - n];
    if (v !== undefined) v.value = value;
  }

  private varValue(name: string): Value {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) return v.value;
    }
    return this.errorf(`undefined variable: ${name}`);
  }

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

  private evalPipeline(dot: Value, pipe: PipeNode): Value {
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    const result = value === MISSING ? null : value;
    for (const v of pipe.decl) {
      const name = v.ident[0] ?? "";
      if (pipe.isAssign) this.setVar(name, result);
      else this.push(name, result);
    }
    return result;
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) {
      this.errorf(
        `can't give argument to non-function ${nodeString(args[0] ?? { type: "nil", pos: 0 })}`,
      );
    }
  }

  private evalCommand(dot: Value, cmd: CommandNode, final: Final): Value {
    const first = cmd.args[0];
    if (first === undefined) return this.errorf("empty command");
    switch (first.type) {
      case "field":
        return this.evalFieldNode(dot, first, cmd.args, final);
      case "chain":
        return this.evalChainNode(dot, first, cmd.args, final);
      case "identifier":
        return this.evalFunction(dot, first, cmd, cmd.args.slice(1), final);
      case "pipe":
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case "variable":
        return this.evalVariableNode(dot, first, cmd.args, final);
      case "bool":
      case "dot":
      case "nil":
      case "number":
      case "string":
        this.at(first);
        this.notAFunction(cmd.args, final);
        if (first.type === "nil") return this.errorf("nil is not a command");
        if (first.type === "dot") return dot;
        if (first.type === "number") return this.idealConstant(first);
        return first.type === "bool" ? first.value : first.text;
    }
  }

  /** A number literal with no type context: the syntax decides int or float64. */
  private idealConstant(n: NumberNode): Value {
    this.at(n);
    const hexInt = /^[+-]?0[xX]/.test(n.text) && !/[pP]/.test(n.text);
    if (n.isFloat && !hexInt && !n.text.startsWith("'") && /[.eEpP]/.test(n.text)) {
      return new GoFloat(n.float);
    }
    if (n.isInt) return n.int;
    return this.errorf(`${n.text} overflows int`);
  }

  private evalFieldNode(
    dot: Value,
    field: FieldNode,
    args: readonly ArgNode[],
    final: Final,
  ): Value {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(
    dot: Value,
    chain: ChainNode,
    args: readonly ArgNode[],
    final: Final,
  ): Value {
    this.at(chain);
    if (chain.node.type === "nil") {
      this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    }
    const receiver = this.evalArg(dot, "value", chain.node);
    return this.evalFieldChain(dot, receiver, chain, chain.field, args, final);
  }

  private evalVariableNode(
    dot: Value,
    variable: VariableNode,
    args: readonly ArgNode[],
    final: Final,
  ): Value {
    this.at(variable);
    const value = this.varValue(variable.ident[0] ?? "");
    if (variable.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, variable, variable.ident.slice(1), args, final);
  }

  private evalFieldChain(
    dot: Value,
    receiver: Value,
    node: AnyNode,
    ident: readonly string[],
    args: readonly ArgNode[],
    final: Final,
  ): Value {
    let r = receiver;
    ident.forEach((name, i) => {
      const last = i === ident.length - 1;
      r = this.evalField(name, node, last ? args : [], last ? final : MISSING, r);
    });
    return r;
  }

  private evalField(
    fieldName: string,
    node: AnyNode,
    args: readonly ArgNode[],
    final: Final,
    receiver: Value,
  ): Value {
    // A field of nothing is nothing (Go's default missingkey option).
    if (receiver === null) return null;
    const hasArgs = args.length > 1 || final !== MISSING;
    this.at(node);
    if (receiver instanceof GoStruct && receiver.fields.has(fieldName)) {
      if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
      return normalize(receiver.fields.get(fieldName));
    }
    if (receiver instanceof GoMap) {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      return normalize(receiver.entries.get(fieldName));
    }
    return this.errorf(`can't evaluate field ${fieldName} in type ${typeName(receiver)}`);
  }

  private evalFunction(
    dot: Value,
    node: IdentifierNode,
    callNode: AnyNode,
    args: readonly ArgNode[],
    final: Final,
  ): Value {
    this.at(node);
    const name = node.ident;
    const fn = BUILTINS.get(name);
    if (fn === undefined) return this.errorf(`${JSON.stringify(name)} is not a defined function`);
    const numIn = args.length + (final === MISSING ? 0 : 1);
    const numFixed = fn.params.length;
    if (fn.variadic !== undefined) {
      if (numIn < numFixed) {
        this.errorf(
          `wrong number of args for ${name}: want at least ${numFixed} got ${args.length}`,
        );
      }
    } else if (numIn !== numFixed) {
      this.errorf(`wrong number of args for ${name}: want ${numFixed} got ${numIn}`);
    }
    if (name === "and" || name === "or") {
      // Short-circuit: stop at the first argument that decides.
      let v: Value = null;
      for (const arg of args) {
        v = this.evalArg(dot, "value", arg);
        if (isTrue(v) === (name === "or")) return v;
      }
      return final === MISSING ? v : final;
    }
    const argv: Value[] = args.map((arg, i) =>
      this.evalArg(dot, fn.params[i] ?? fn.variadic ?? "value", arg),
    );
    if (final !== MISSING) {
      const kind = fn.params[numIn - 1] ?? fn.variadic ?? "value";
      argv.push(this.validateType(final, kind));
    }
    try {
      return fn.call(argv);
    } catch (err) {
      if (!(err instanceof FuncError)) throw err;
      this.at(callNode);
      return this.errorf(`error calling ${name}: ${err.message}`);
    }
  }

  private validateType(value: Value, kind: ParamKind): Value {
    if (kind !== "string") return value;
    if (value === null) return this.errorf("invalid value; expected string");
    if (typeof value !== "string") {
      this.errorf(`wrong type for value; expected string; got ${typeName(value)}`);
    }
    return value;
  }

  private evalArg(dot: Value, kind: ParamKind, n: ArgNode): Value {
    this.at(n);
    switch (n.type) {
      case "dot":
        return this.validateType(dot, kind);
      case "nil":
        if (kind === "string") this.errorf("cannot assign nil to string");
        return null;
      case "field":
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), kind);
      case "variable":
        return this.validateType(this.evalVariableNode(dot, n, [], MISSING), kind);
      case "pipe":
        return this.validateType(this.evalPipeline(dot, n), kind);
      case "identifier":
        return this.validateType(this.evalFunction(dot, n, n, [], MISSING), kind);
      case "chain":
        return this.validateType(this.evalChainNode(dot, n, [], MISSING), kind);
      case "bool":
      case "number":
        if (kind === "string") this.errorf(`expected string; found ${nodeString(n)}`);
        return n.type === "bool" ? n.value : this.idealConstant(n);
      case "string":
        return n.text;
    }
  }
}

/** Executes the tree with `data` as dot and `$`; throws TemplateError on failure. */
export function execute(input: ExecInput, data: unknown): string {
  const root = normalize(data);
  const state = new State(input, root);
  state.walk(root, input.root);
  return state.out;
}
