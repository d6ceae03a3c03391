/**
 * @module promql/injection.test
 * Property tests: whatever a client puts in a label value or a selector, the PromQL we emit
 * re-tokenizes to exactly the intended label name, operator and one string literal holding the
 * intended text. The tokenizer below follows the Prometheus lexer's rules for double-quoted strings
 * (promql/parser/lex.go lexString/lexEscape, then strconv.Unquote), strictly: a raw newline, an
 * unknown escape or a surrogate escape is a failure, as it would be for Prometheus.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import fc from "fast-check";

import { LabelSelectorError } from "../apimachinery/label-selector.ts";
import { parseRequirements } from "../apimachinery/label-selector-parser.ts";
import {
  PromqlMatcherError,
  alternationRegex,
  labelMatcher,
  metricSelector,
  renderMatcher,
  requirementToMatcher,
  type MatchOperator,
} from "./matchers.ts";

type Tok =
  | { readonly kind: "name"; readonly text: string }
  | { readonly kind: "op"; readonly text: MatchOperator }
  | { readonly kind: "punct"; readonly text: "{" | "}" | "," }
  | { readonly kind: "string"; readonly text: string };

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  '"': '"',
};

/** Reads one double-quoted literal starting at `start` (the opening quote). */
function readString(src: string, start: number): { value: string; end: number } {
  let i = start + 1;
  let value = "";
  for (;;) {
    const ch = src[i];
    if (ch === undefined) throw new Error("unterminated quoted string");
    if (ch === "\n") throw new Error("newline in quoted string");
    if (ch === '"') return { value, end: i + 1 };
    if (ch !== "\\") {
      value += ch;
      i++;
      continue;
    }
    const esc = src[i + 1];
    if (esc === undefined) throw new Error("escape sequence not terminated");
    const simple = SIMPLE_ESCAPES[esc];
    if (simple !== undefined) {
      value += simple;
      i += 2;
      continue;
    }
    let digits: number;
    let base: number;
    let skip: number;
    if (esc >= "0" && esc <= "7") [digits, base, skip] = [3, 8, 1];
    else if (esc === "x") [digits, base, skip] = [2, 16, 2];
    else if (esc === "u") [digits, base, skip] = [4, 16, 2];
    else if (esc === "U") [digits, base, skip] = [8, 16, 2];
    else throw new Error(`unknown escape sequence \\${esc}`);
    const text = src.slice(i + skip, i + skip + digits);
    const pattern = base === 8 ? /^[0-7]+$/ : /^[0-9a-fA-F]+$/;
    if (text.length !== digits || !pattern.test(text)) throw new Error("bad escape digits");
    const cp = Number.parseInt(text, base);
    // \x and octal escapes above 0x7f would be raw bytes in Go, not characters.
    if ((esc === "x" || base === 8) && cp > 0x7f) throw new Error("raw byte escape");
    if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) throw new Error("invalid code point");
    value += String.fromCodePoint(cp);
    i += skip + digits;
  }
}

/** Tokens of a selector or matcher list: names, matcher operators, `{ } ,` and strings. */
function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const rest = src.slice(i);
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(rest)?.[0];
    if (name !== undefined) {
      toks.push({ kind: "name", text: name });
      i += name.length;
      continue;
    }
    const op = /^(=~|!~|!=|=)/.exec(rest)?.[0] as MatchOperator | undefined;
    if (op !== undefined) {
      toks.push({ kind: "op", text: op });
      i += op.length;
      continue;
    }
    const ch = src[i];
    if (ch === "{" || ch === "}" || ch === ",") {
      toks.push({ kind: "punct", text: ch });
      i++;
      continue;
    }
    if (ch === '"') {
      const { value, end } = readString(src, i);
      toks.push({ kind: "string", text: value });
      i = end;
      continue;
    }
    throw new Error(`unexpected character ${JSON.stringify(ch)} at ${i} in ${JSON.stringify(src)}`);
  }
  return toks;
}

/** What a Go string (UTF-8) can hold: lone surrogates become U+FFFD. */
function asGoString(s: string): string {
  return Buffer.from(s, "utf8").toString("utf8");
}

function assertMatcherTokens(
  rendered: string,
  name: string,
  op: MatchOperator,
  value: string,
): void {
  assert.deepEqual(tokenize(rendered), [
    { kind: "name", text: name },
    { kind: "op", text: op },
    { kind: "string", text: asGoString(value) },
  ]);
}

const labelNameArb = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,15}$/);
const opArb = fc.constantFrom<MatchOperator>("=", "!=", "=~", "!~");
const hostileArb = fc.constantFrom(
  '"',
  '\\"',
  '"} or vector(1) #',
  "\\",
  "\n",
  "\r\n",
  "\u2028",
  "\0",
  "\x7f",
  "\ud800",
  "\udc00x",
  "`",
  "'",
  "\\u0022",
  "${x}",
  "a|b",
  ".*",
);
const valueArb = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)) }),
  fc.array(hostileArb, { maxLength: 6 }).map((parts) => parts.join("")),
);

const SELECTOR_CHARS = [
  ...Array.from("abcxyzAZ09_-./"),
  ...Array.from("=!(),<>"),
  " ",
  "\t",
  "\n",
  "\r",
  ...Array.from("notin"),
  '"',
  "\\",
  "|",
  "*",
  "{",
  "}",
  "~",
  "é",
  "\0",
];
const selectorValueArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,6}[A-Za-z0-9])?$/),
  fc.constant(""),
  fc.constantFrom("a.b", "a-b", "x_y", "v1.2.3", "a|b", ".*", 'x"y', "é"),
);
const wellFormedArb = fc
  .array(
    fc.tuple(
      fc.constantFrom("app", "tier", "k", "a_b", "x.y", "example.com/name", "Job"),
      fc.constantFrom("=", "==", "!=", "in", "notin", "exists", "!", "gt"),
      fc.array(selectorValueArb, { minLength: 1, maxLength: 4 }),
      fc.constantFrom("", " ", "  ", "\t"),
    ),
    { maxLength: 4 },
  )
  .map((reqs) =>
    reqs
      .map(([key, op, values, ws]) => {
        switch (op) {
          case "exists":
            return key;
          case "!":
            return `!${key}`;
          case "in":
          case "notin":
            return `${key}${ws} ${op} (${values.join(`,${ws}`)})`;
          case "gt":
            return `${key}>${String(values[0]?.length ?? 0)}`;
          case "=":
          case "==":
          case "!=":
            return `${key}${ws}${op}${ws}${values[0] ?? ""}`;
        }
      })
      .join(","),
  );
const selectorArb = fc.oneof(
  wellFormedArb,
  fc.string({ unit: fc.constantFrom(...SELECTOR_CHARS), maxLength: 40 }),
  fc
    .array(
      fc.oneof(
        fc.constantFrom("a", "b", "k", "app", "in", "notin", "x.y", "a-b", "1"),
        fc.constantFrom("=", "==", "!=", " in ", " notin ", "!", ",", "(", ")", ">", "<", " "),
      ),
      { maxLength: 12 },
    )
    .map((parts) => parts.join("")),
  fc.string({ unit: "binary", maxLength: 30 }),
);

describe("no value breaks out of its string literal", () => {
  it("renderMatcher keeps name, operator and value apart for any value", () => {
    fc.assert(
      fc.property(labelNameArb, opArb, valueArb, (name, op, value) => {
        assertMatcherTokens(renderMatcher(labelMatcher(name, op, value)), name, op, value);
      }),
      { numRuns: 2000 },
    );
  });

  it("metricSelector yields exactly name{m,…} for any values", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(labelNameArb, opArb, valueArb), { maxLength: 5 }), (parts) => {
        const matchers = parts.map(([n, o, v]) => labelMatcher(n, o, v));
        const toks = tokenize(metricSelector("metric_name", matchers));
        const expected: Tok[] = [{ kind: "name", text: "metric_name" }];
        if (matchers.length > 0) {
          expected.push({ kind: "punct", text: "{" });
          matchers.forEach((m, i) => {
            if (i > 0) expected.push({ kind: "punct", text: "," });
            expected.push(
              { kind: "name", text: m.name },
              { kind: "op", text: m.op },
              { kind: "string", text: asGoString(m.value) },
            );
          });
          expected.push({ kind: "punct", text: "}" });
        }
        assert.deepEqual(toks, expected);
      }),
      { numRuns: 1000 },
    );
  });

  it("any selector string is rejected or becomes exactly the intended matchers", () => {
    fc.assert(
      fc.property(selectorArb, fc.boolean(), (selector, escapeRegex) => {
        let reqs;
        try {
          reqs = parseRequirements(selector);
        } catch (err) {
          assert.ok(err instanceof LabelSelectorError, String(err));
          return;
        }
        for (const req of reqs) {
          let matcher;
          try {
            matcher = requirementToMatcher(req, { escapeRegex });
          } catch (err) {
            assert.ok(err instanceof PromqlMatcherError, String(err));
            continue;
          }
          const rendered = renderMatcher(matcher);
          switch (req.operator) {
            case "=":
            case "==":
              assertMatcherTokens(rendered, req.key, "=", req.values[0] ?? "");
              break;
            case "!=":
              assertMatcherTokens(rendered, req.key, "!=", req.values[0] ?? "");
              break;
            case "exists":
              assertMatcherTokens(rendered, req.key, "!=", "");
              break;
            case "!":
              assertMatcherTokens(rendered, req.key, "=", "");
              break;
            case "in":
            case "notin": {
              const regex = alternationRegex(req.values, { escapeRegex });
              assertMatcherTokens(rendered, req.key, req.operator === "in" ? "=~" : "!~", regex);
              if (escapeRegex) {
                // Prometheus anchors the regex; escaped, it matches exactly the listed values.
                const re = new RegExp(`^(?:${regex})$`, "u");
                for (const v of req.values) assert.ok(re.test(v), `${regex} should match ${v}`);
                for (const probe of ["", "zz", "a.b", "axb", `${req.values[0] ?? ""}x`]) {
                  assert.equal(re.test(probe), req.values.includes(probe), `${regex} vs ${probe}`);
                }
              }
              break;
            }
            case "gt":
            case "lt":
              assert.fail("gt/lt must be refused");
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("the tokenizer itself rejects broken literals", () => {
    for (const bad of ['a="x', 'a="\n"', 'a="\\q"', 'a="\\ud800"', 'a="\\xff"', "a=`x`"]) {
      assert.throws(() => tokenize(bad), Error, bad);
    }
  });
});
