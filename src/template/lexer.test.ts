/**
 * @module template/lexer.test
 * Item streams as Go's lex_test.go describes them: text, delimiters with trim markers, comments,
 * and the tokens inside actions; lexing errors end the stream with an "error" item.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { formatRune, itemString, lex } from "./lexer.ts";

/** Items as "type:value", spaces dropped, for compact tables. */
function items(input: string, left = "{{", right = "}}"): string[] {
  return lex(input, left, right)
    .filter((i) => i.type !== "space")
    .map((i) => `${i.type}:${i.val}`);
}

describe("lex", () => {
  const table: readonly (readonly [string, string, readonly string[]])[] = [
    ["empty", "", ["eof:"]],
    ["text", "now is the time", ["text:now is the time", "eof:"]],
    [
      "text with comment",
      "hello-{{/* this is a comment */}}-world",
      ["text:hello-", "text:-world", "eof:"],
    ],
    [
      "punctuation",
      "{{,@% }}",
      ["leftDelim:{{", "char:,", "char:@", "char:%", "rightDelim:}}", "eof:"],
    ],
    [
      "parens",
      "{{((3))}}",
      [
        "leftDelim:{{",
        "leftParen:(",
        "leftParen:(",
        "number:3",
        "rightParen:)",
        "rightParen:)",
        "rightDelim:}}",
        "eof:",
      ],
    ],
    ["empty action", "{{}}", ["leftDelim:{{", "rightDelim:}}", "eof:"]],
    ["for", "{{for}}", ["leftDelim:{{", "identifier:for", "rightDelim:}}", "eof:"]],
    [
      "quote",
      '{{"abc \\n\\t\\" "}}',
      ["leftDelim:{{", 'string:"abc \\n\\t\\" "', "rightDelim:}}", "eof:"],
    ],
    [
      "raw quote with newline",
      "{{`now is{{\n}}the time`}}",
      ["leftDelim:{{", "rawString:`now is{{\n}}the time`", "rightDelim:}}", "eof:"],
    ],
    [
      "numbers",
      "{{1 02 0x14 0X14 -7.2i 1e3 1E3 +1.2e-4 4.2i 1+2i 1_2 0x1.e_fp4 0X1.E_FP4}}",
      [
        "leftDelim:{{",
        "number:1",
        "number:02",
        "number:0x14",
        "number:0X14",
        "number:-7.2i",
        "number:1e3",
        "number:1E3",
        "number:+1.2e-4",
        "number:4.2i",
        "complex:1+2i",
        "number:1_2",
        "number:0x1.e_fp4",
        "number:0X1.E_FP4",
        "rightDelim:}}",
        "eof:",
      ],
    ],
    [
      "characters",
      "{{'a' '\\n' '\\'' '\\\\' '\\u00FF' '\\xFF' '本'}}",
      [
        "leftDelim:{{",
        "charConstant:'a'",
        "charConstant:'\\n'",
        "charConstant:'\\''",
        "charConstant:'\\\\'",
        "charConstant:'\\u00FF'",
        "charConstant:'\\xFF'",
        "charConstant:'本'",
        "rightDelim:}}",
        "eof:",
      ],
    ],
    [
      "bools",
      "{{true false}}",
      ["leftDelim:{{", "bool:true", "bool:false", "rightDelim:}}", "eof:"],
    ],
    ["dot", "{{.}}", ["leftDelim:{{", "dot:.", "rightDelim:}}", "eof:"]],
    ["nil", "{{nil}}", ["leftDelim:{{", "nil:nil", "rightDelim:}}", "eof:"]],
    [
      "dots",
      "{{.x . .2 .x.y.z}}",
      [
        "leftDelim:{{",
        "field:.x",
        "dot:.",
        "number:.2",
        "field:.x",
        "field:.y",
        "field:.z",
        "rightDelim:}}",
        "eof:",
      ],
    ],
    [
      "keywords",
      "{{range if else end with break continue}}",
      [
        "leftDelim:{{",
        "range:range",
        "if:if",
        "else:else",
        "end:end",
        "with:with",
        "break:break",
        "continue:continue",
        "rightDelim:}}",
        "eof:",
      ],
    ],
    [
      "variables",
      "{{$c := printf $ $hello $23 $ $var.Field .Method}}",
      [
        "leftDelim:{{",
        "variable:$c",
        "declare::=",
        "identifier:printf",
        "variable:$",
        "variable:$hello",
        "variable:$23",
        "variable:$",
        "variable:$var",
        "field:.Field",
        "field:.Method",
        "rightDelim:}}",
        "eof:",
      ],
    ],
    [
      "variable invocation",
      "{{$x 23}}",
      ["leftDelim:{{", "variable:$x", "number:23", "rightDelim:}}", "eof:"],
    ],
    [
      "pipeline",
      'intro {{echo hi 1.2 |noargs|args 1 "hi"}} outro',
      [
        "text:intro ",
        "leftDelim:{{",
        "identifier:echo",
        "identifier:hi",
        "number:1.2",
        "pipe:|",
        "identifier:noargs",
        "pipe:|",
        "identifier:args",
        "number:1",
        'string:"hi"',
        "rightDelim:}}",
        "text: outro",
        "eof:",
      ],
    ],
    [
      "declaration",
      "{{$v := 3}}",
      ["leftDelim:{{", "variable:$v", "declare::=", "number:3", "rightDelim:}}", "eof:"],
    ],
    [
      "2 declarations",
      "{{$v , $w := 3}}",
      [
        "leftDelim:{{",
        "variable:$v",
        "char:,",
        "variable:$w",
        "declare::=",
        "number:3",
        "rightDelim:}}",
        "eof:",
      ],
    ],
    [
      "field of parenthesized expression",
      "{{(.X).Y}}",
      [
        "leftDelim:{{",
        "leftParen:(",
        "field:.X",
        "rightParen:)",
        "field:.Y",
        "rightDelim:}}",
        "eof:",
      ],
    ],
    [
      "trimming spaces before and after",
      "hello- {{- 3 -}} -world",
      ["text:hello-", "leftDelim:{{", "number:3", "rightDelim:}}", "text:-world", "eof:"],
    ],
    [
      "trimming spaces before and after comment",
      "hello- {{- /* hello */ -}} -world",
      ["text:hello-", "text:-world", "eof:"],
    ],
    [
      "negative number is not a trim marker",
      "{{-3}}",
      ["leftDelim:{{", "number:-3", "rightDelim:}}", "eof:"],
    ],
    // Errors: the stream stops at the first one.
    [
      "badchar",
      "#{{\x01}}",
      ["text:#", "leftDelim:{{", "error:unrecognized character in action: U+0001"],
    ],
    ["unclosed action", "{{", ["leftDelim:{{", "error:unclosed action"]],
    ["EOF in action", "{{range", ["leftDelim:{{", "range:range", "error:unclosed action"]],
    ["unclosed quote", '{{"\n"}}', ["leftDelim:{{", "error:unterminated quoted string"]],
    ["unclosed raw quote", "{{`xx}}", ["leftDelim:{{", "error:unterminated raw quoted string"]],
    [
      "unclosed char constant",
      "{{'\n}}",
      ["leftDelim:{{", "error:unterminated character constant"],
    ],
    ["bad number", "{{3k}}", ["leftDelim:{{", 'error:bad number syntax: "3k"']],
    [
      "unclosed paren",
      "{{(3}}",
      ["leftDelim:{{", "leftParen:(", "number:3", "error:unclosed left paren"],
    ],
    ["extra right paren", "{{3)}}", ["leftDelim:{{", "number:3", "error:unexpected right paren"]],
    [
      "long pipeline deadlock",
      "{{|||||}}",
      ["leftDelim:{{", "pipe:|", "pipe:|", "pipe:|", "pipe:|", "pipe:|", "rightDelim:}}", "eof:"],
    ],
    ["text with bad comment", "hello-{{/*/}}-world", ["text:hello-", "error:unclosed comment"]],
    [
      "text with comment close separated from delim",
      "hello-{{/* */ }}-world",
      ["text:hello-", "error:comment ends before closing delimiter"],
    ],
    ["unmatched right delimiter", "hello-{.}}-world", ["text:hello-{.}}-world", "eof:"]],
  ];
  for (const [name, input, want] of table) {
    test(name, () => {
      assert.deepEqual(items(input), want);
    });
  }

  test("custom delimiters", () => {
    assert.deepEqual(items("a [[- .X -]] b", "[[", "]]"), [
      "text:a",
      "leftDelim:[[",
      "field:.X",
      "rightDelim:]]",
      "text:b",
      "eof:",
    ]);
    assert.deepEqual(items("<<.Series>>{<<.LabelMatchers>>}", "<<", ">>"), [
      "leftDelim:<<",
      "field:.Series",
      "rightDelim:>>",
      "text:{",
      "leftDelim:<<",
      "field:.LabelMatchers",
      "rightDelim:>>",
      "text:}",
      "eof:",
    ]);
  });

  test("positions are offsets of each item", () => {
    const all = lex("ab{{ .X }}", "{{", "}}");
    assert.deepEqual(
      all.map((i) => [i.type, i.pos]),
      [
        ["text", 0],
        ["leftDelim", 2],
        ["space", 4],
        ["field", 5],
        ["space", 7],
        ["rightDelim", 8],
        ["eof", 10],
      ],
    );
  });
});

describe("item and rune strings", () => {
  test("itemString as Go's item.String", () => {
    assert.equal(itemString({ type: "eof", pos: 0, val: "" }), "EOF");
    assert.equal(itemString({ type: "range", pos: 0, val: "range" }), "<range>");
    assert.equal(itemString({ type: "string", pos: 0, val: '"x"' }), '"\\"x\\""');
    assert.equal(itemString({ type: "text", pos: 0, val: "0123456789abc" }), '"0123456789"...');
  });

  test("formatRune as Go's %#U", () => {
    assert.equal(formatRune("#"), "U+0023 '#'");
    assert.equal(formatRune("\u0001"), "U+0001");
    assert.equal(formatRune("本"), "U+672C '本'");
  });
});
