/**
 * @module template/evaluator
 * The expression half of execution, mirroring Go's text/template/exec.go: the `$` variable stack,
 * pipelines (the previous stage's value is the last argument), commands, field chains, function
 * calls with short-circuit and/or, arguments checked against parameter kinds, and Go's execution
 * error messages with the node being evaluated as context. exec.ts walks the statements on top.
 */

import { nodeString } from "./ast.ts";
import type {
  AnyNode,
  ArgNode,
  ChainNode,
  CommandNode,
  FieldNode,
  IdentifierNode,
  NumberNode,
  PipeNode,
  VariableNode,
} from "./ast.ts";
import { execError } from "./errors.ts";
import { BUILTINS, FuncError } from "./functions.ts";
import type { ParamKind } from "./functions.ts";
import { GoFloat, GoMap, GoStruct, isTrue, normalize, typeName } from "./values.ts";
import type { Value } from "./values.ts";

/** "No value from a previous pipeline stage" (Go's missingVal), distinct from nil. */
const MISSING = Symbol("missing");
type Final = Value | typeof MISSING;

interface Variable {
  readonly name: string;
  value: Value;
}

/** Evaluation state of one execution; exec.ts's State extends it with the statement walk. */
export abstract class Evaluator {
  private readonly name: string;
  private readonly text: string;
  private readonly vars: Variable[];
  /** The node being evaluated, for error context. */
  private node: AnyNode | undefined;

  constructor(name: string, text: string, data: Value) {
    this.name = name;
    this.text = text;
    this.vars = [{ name: "$", value: data }];
  }

  protected at(node: AnyNode): void {
    this.node = node;
  }

  protected errorf(detail: string): never {
    const node = this.node;
    if (node === undefined) throw execError(this.name, this.text, 0, "", detail);
    throw execError(this.name, this.text, node.pos, nodeString(node), detail);
  }

  protected mark(): number {
    return this.vars.length;
  }

  protected pop(mark: number): void {
    this.vars.length = mark;
  }

  private push(name: string, value: Value): void {
    this.vars.push({ name, value });
  }

  /** Overwrites the nearest variable with that name (`$x = ...`). */
  protected setVar(name: string, value: Value): void {
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
  protected setTopVar(n: number, value: Value): void {
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

  protected evalPipeline(dot: Value, pipe: PipeNode): Value {
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
