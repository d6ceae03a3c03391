/**
 * @module template/parser.test
 * Parse parity with Go's text/template/parse: the cases port parse_test.go (`parseTests`,
 * `errorTests`) within our subset. Messages and lines were produced by Go 1.26; columns are ours.
 * Rows with `out` are also executed with nil data (trim markers and comments).
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { nodeString } from "./ast.ts";
import { TemplateError } from "./errors.ts";
import { parse } from "./parser.ts";
import { parseTemplate } from "./template.ts";

type Want = { ok: true } | { out: string } | { err: string; at: string };

/** [name, template, expected] */
const CASES: readonly (readonly [string, string, Want])[] = [
  ["unclosed1", "line1\n{{", { err: "unclosed action", at: "2:3" }],
  ["unclosed3", 'line1\n{{"x"\n"y"\n', { err: "unclosed action started at t:2", at: "4:1" }],
  ["unclosed4", "{{\n\n\n\n\n", { err: "unclosed action started at t:1", at: "6:1" }],
  ["var1", "line1\n{{\nx\n}}", { err: 'function "x" not defined', at: "3:1" }],
  ["function", "{{foo}}", { err: 'function "foo" not defined', at: "1:3" }],
  ["comment1", "{{/*}}", { err: "unclosed comment", at: "1:3" }],
  ["comment2", "{{/*\nhello\n}}", { err: "unclosed comment", at: "1:3" }],
  ["comment3", "{{/* x */ 1}}", { err: "comment ends before closing delimiter", at: "1:3" }],
  ["lparen", "{{.X (1 2 3}}", { err: "unclosed left paren", at: "1:12" }],
  ["rparen", "{{.X 1 2 3 ) }}", { err: "unexpected right paren", at: "1:12" }],
  ["rparen2", "{{(.X 1 2 3", { err: "unclosed action", at: "1:12" }],
  ["space", "{{`x`3}}", { err: 'unexpected "3" in operand', at: "1:6" }],
  ["idchar", "{{a#}}", { err: "bad character U+0023 '#'", at: "1:3" }],
  ["charconst", "{{'a}}", { err: "unterminated character constant", at: "1:3" }],
  ["stringconst", '{{"a}}', { err: "unterminated quoted string", at: "1:3" }],
  ["rawstringconst", "{{`a}}", { err: "unterminated raw quoted string", at: "1:3" }],
  ["number", "{{0xi}}", { err: 'illegal number syntax: "0xi"', at: "1:3" }],
  ["eof", "{{range .X}}", { err: "unexpected EOF", at: "1:13" }],
  [
    "variable",
    "{{$x := 23}}{{with $x.y := 3}}{{$x 23}}{{end}}",
    { err: 'unexpected ":=" in operand', at: "1:25" },
  ],
  ["multidecl", "{{$a,$b,$c := 23}}", { err: "too many declarations in command", at: "1:5" }],
  ["undefvar", "{{$a}}", { err: 'undefined variable "$a"', at: "1:3" }],
  ["wrongdot", "{{true.any}}", { err: 'unexpected . after term "true"', at: "1:7" }],
  [
    "wrongpipeline",
    "{{12|false}}",
    { err: "non executable command in pipeline stage 2", at: "1:6" },
  ],
  ["emptypipeline", "{{ ( ) }}", { err: "missing value for parenthesized pipeline", at: "1:6" }],
  ["multilinerawstring", "{{ $v := `\n` }} {{", { err: "unclosed action", at: "2:8" }],
  ["rangeundefvar", "{{range $k}}{{end}}", { err: 'undefined variable "$k"', at: "1:9" }],
  ["rangeundefvars", "{{range $k, $v}}{{end}}", { err: 'undefined variable "$v"', at: "1:13" }],
  ["rangemissingvalue1", "{{range $k,}}{{end}}", { err: "missing value for range", at: "1:12" }],
  [
    "rangemissingvalue2",
    "{{range $k, $v := }}{{end}}",
    { err: "missing value for range", at: "1:19" },
  ],
  [
    "rangenotvariable1",
    "{{range $k, .}}{{end}}",
    { err: "range can only initialize variables", at: "1:13" },
  ],
  [
    "rangenotvariable2",
    "{{range $k, 123 := .}}{{end}}",
    { err: "range can only initialize variables", at: "1:13" },
  ],
  ["emptyAction", "{{}}", { err: "missing value for command", at: "1:3" }],
  ["field", "{{.X}}", { ok: true }],
  ["simple command", "{{printf}}", { ok: true }],
  ["variable invocation", "{{with $x := 3}}{{$x 23}}{{end}}", { ok: true }],
  ["pipeline", "{{.X|.Y}}", { ok: true }],
  ["pipeline with decl", "{{$x := .X|.Y}}", { ok: true }],
  ["nested pipeline", "{{.X (.Y .Z) (.A | .B .C) (.E)}}", { ok: true }],
  ["field applied to parentheses", "{{(.Y .Z).Field}}", { ok: true }],
  ["if else chain", "+{{if .X}}X{{else if .Y}}Y{{else if .Z}}Z{{end}}+", { ok: true }],
  ["chained field range", "{{range .X.Y.Z}}hello{{end}}", { ok: true }],
  ["range over pipeline", "{{range .X|.M}}true{{else}}false{{end}}", { ok: true }],
  ["trim left", "x \r\n\t{{- 3}}", { out: "x3" }],
  ["trim right", "{{3 -}}\n\n\ty", { out: "3y" }],
  ["trim left and right", "x \r\n\t{{- 3 -}}\n\n\ty", { out: "x3y" }],
  ["trim with extra spaces", "x\n{{-  3   -}}\ny", { out: "x3y" }],
  ["comment trim left", "x \r\n\t{{- /* hi */}}", { out: "x" }],
  ["comment trim right", "{{/* hi */ -}}\n\n\ty", { out: "y" }],
  ["comment trim left and right", "x \r\n\t{{- /* */ -}}\n\n\ty", { out: "xy" }],
  ["newline in assignment", "{{ $x \n := \n 1 \n }}", { out: "" }],
  ["newline in empty action", "{{\n}}", { err: "missing value for command", at: "2:1" }],
  ["newline in pipeline", '{{\n"x"\n|\nprintf\n}}', { out: "x" }],
  ["newline in comment", "{{-\n/*\nhello\n*/\n-}}", { out: "" }],
  ["unclosed action", "hello{{range", { err: "unclosed action", at: "1:13" }],
  ["unmatched end", "{{end}}", { err: "unexpected {{end}}", at: "1:3" }],
  ["unmatched else", "{{else}}", { err: "unexpected {{else}}", at: "1:3" }],
  [
    "unmatched else after if",
    "{{if .X}}hello{{end}}{{else}}",
    { err: "unexpected {{else}}", at: "1:24" },
  ],
  [
    "multiple else",
    "{{if .X}}1{{else}}2{{else}}3{{end}}",
    { err: "expected end; found {{else}}", at: "1:22" },
  ],
  ["missing end", "hello{{range .x}}", { err: "unexpected EOF", at: "1:18" }],
  ["missing end after else", "hello{{range .x}}{{else}}", { err: "unexpected EOF", at: "1:26" }],
  [
    "variable undefined after end",
    "{{with $x := 4}}{{end}}{{$x}}",
    { err: 'undefined variable "$x"', at: "1:26" },
  ],
  [
    "declare with field",
    "{{with $x.Y := 4}}{{end}}",
    { err: 'undefined variable "$x"', at: "1:8" },
  ],
  ["invalid punctuation", "{{printf 3, 4}}", { err: 'unexpected "," in operand', at: "1:11" }],
  [
    "multidecl outside range",
    "{{with $v, $u := 3}}{{end}}",
    { err: "too many declarations in with", at: "1:10" },
  ],
  [
    "too many decls in range",
    "{{range $u, $v, $w := 3}}{{end}}",
    { err: "too many declarations in range", at: "1:15" },
  ],
  [
    "dot applied to parentheses",
    "{{printf (printf .).}}",
    { err: "unexpected <.> in operand", at: "1:20" },
  ],
  ["adjacent args", "{{printf 3`x`}}", { err: 'unexpected "`x`" in operand', at: "1:11" }],
  ["adjacent args with .", "{{printf `x`.}}", { err: "unexpected <.> in operand", at: "1:13" }],
  [
    "extra end after if",
    "{{if .X}}a{{else if .Y}}b{{end}}{{end}}",
    { err: "unexpected {{end}}", at: "1:35" },
  ],
  [
    "break outside range",
    "{{range .}}{{end}} {{break}}",
    { err: "{{break}} outside {{range}}", at: "1:22" },
  ],
  [
    "continue outside range",
    "{{range .}}{{end}} {{continue}}",
    { err: "{{continue}} outside {{range}}", at: "1:22" },
  ],
  [
    "break in range else",
    "{{range .}}{{else}}{{break}}{{end}}",
    { err: "{{break}} outside {{range}}", at: "1:22" },
  ],
  ["bug0b", "{{$x += 1}}{{$x}}", { err: 'undefined variable "$x"', at: "1:3" }],
  ["bug0c", "{{$x ! 2}}{{$x}}", { err: 'undefined variable "$x"', at: "1:3" }],
  ["bug0d", "{{$x % 3}}{{$x}}", { err: 'undefined variable "$x"', at: "1:3" }],
  ["bug0e", "{{range $x := $y := 3}}{{end}}", { err: 'undefined variable "$y"', at: "1:15" }],
  ["bug1a", "{{$x:=.}}{{$x!2}}", { err: "bad character U+0021 '!'", at: "1:12" }],
  ["bug1b", "{{$x:=.}}{{$x+2}}", { err: "bad character U+002B '+'", at: "1:12" }],
  ["bug1c", "{{$x:=.}}{{$x +2}}", { ok: true }],
  ["bug2b", "{{range $x = 0}}{{$x}}{{end}}", { ok: true }],
  ["dot after integer", "{{1.E}}", { err: 'illegal number syntax: "1.E"', at: "1:3" }],
  ["dot after float", "{{0.1.E}}", { err: 'unexpected . after term "0.1"', at: "1:6" }],
  ["dot after boolean", "{{true.E}}", { err: 'unexpected . after term "true"', at: "1:7" }],
  ["dot after char", "{{'a'.any}}", { err: "unexpected . after term \"'a'\"", at: "1:6" }],
  [
    "dot after string",
    '{{"hello".guys}}',
    { err: 'unexpected . after term "\\"hello\\""', at: "1:10" },
  ],
  ["dot after dot", "{{..E}}", { err: 'unexpected . after term "."', at: "1:4" }],
  ["dot after nil", "{{nil.E}}", { err: 'unexpected . after term "nil"', at: "1:6" }],
  [
    "wrong pipeline dot",
    "{{12|.}}",
    { err: "non executable command in pipeline stage 2", at: "1:6" },
  ],
  [
    "wrong pipeline number",
    "{{.|12|printf}}",
    { err: "non executable command in pipeline stage 2", at: "1:5" },
  ],
  [
    "wrong pipeline string",
    '{{.|printf|"error"}}',
    { err: "non executable command in pipeline stage 3", at: "1:12" },
  ],
  [
    "wrong pipeline char",
    "{{12|printf|'e'}}",
    { err: "non executable command in pipeline stage 3", at: "1:13" },
  ],
  [
    "wrong pipeline boolean",
    "{{.|true}}",
    { err: "non executable command in pipeline stage 2", at: "1:5" },
  ],
  [
    "wrong pipeline nil",
    "{{'c'|nil}}",
    { err: "non executable command in pipeline stage 2", at: "1:7" },
  ],
  [
    "empty pipeline",
    '{{printf "%d" ( ) }}',
    { err: "missing value for parenthesized pipeline", at: "1:17" },
  ],
  ["paren nesting", "{{ ((( 1 ))) | printf }}", { ok: true }],
  ["bad escape", '{{"\\q"}}', { err: "invalid syntax", at: "1:3" }],
  [
    "unrecognized char",
    "{{.X §}}",
    { err: "unrecognized character in action: U+00A7 '§'", at: "1:6" },
  ],
  ["colon", "{{$x : 1}}", { err: 'undefined variable "$x"', at: "1:3" }],
  [
    "overflow",
    "{{99999999999999999999}}",
    { err: 'integer overflow: "99999999999999999999"', at: "1:3" },
  ],
  ["illegal number", "{{1.2.3}}", { err: 'unexpected ".3" in operand', at: "1:6" }],
  ["089", "{{089}}", { err: 'integer overflow: "089"', at: "1:3" }],
  ["text after error line", "a\nb\n  {{ .X | }}", { ok: true }],
  ["join", '{{join .X ","}}', { err: 'function "join" not defined', at: "1:3" }],
  ["end with args", "{{if 1}}{{end 1}}", { err: 'unexpected "1" in end', at: "1:15" }],
  ["else with args", "{{if 1}}{{else 1}}{{end}}", { err: 'unexpected "1" in else', at: "1:16" }],
  [
    "range else if",
    "{{range .}}{{else if 1}}{{end}}",
    { err: "unexpected <if> in input", at: "1:19" },
  ],
  [
    "long unexpected",
    "{{if 1}}{{else}}{{else}}",
    { err: "expected end; found {{else}}", at: "1:19" },
  ],
  [
    "unexpected long token",
    '{{.X "a very long string here" )}}',
    { err: "unexpected right paren", at: "1:32" },
  ],
];

describe("parse: Go text/template/parse parity", () => {
  for (const [name, src, want] of CASES) {
    test(name, () => {
      if ("ok" in want) {
        parseTemplate(src, { name: "t" });
        return;
      }
      if ("out" in want) {
        assert.equal(parseTemplate(src, { name: "t" }).execute(null), want.out);
        return;
      }
      assert.throws(
        () => parseTemplate(src, { name: "t" }),
        (err: unknown) => {
          assert.ok(err instanceof TemplateError);
          assert.equal(err.phase, "parse");
          assert.equal(err.detail, want.err);
          assert.equal(`${err.line}:${err.col}`, want.at);
          assert.equal(err.message, `template: t:${want.at}: ${want.err}`);
          return true;
        },
      );
    });
  }
});

describe("parse: tree", () => {
  const print = (src: string): string =>
    nodeString(parse({ name: "t", text: src, leftDelim: "{{", rightDelim: "}}" }));

  // Go's parse_test.go checks the tree through String(); these are its expected forms.
  const table: readonly (readonly [string, string])[] = [
    ["{{.X}}", "{{.X}}"],
    ["{{$x := .X|.Y}}", "{{$x := .X | .Y}}"],
    ["{{.X (.Y .Z) (.A | .B .C) (.E)}}", "{{.X (.Y .Z) (.A | .B .C) (.E)}}"],
    ["{{(.Y .Z).Field}}", "{{(.Y .Z).Field}}"],
    ["{{if .X}}hello{{end}}", "{{if .X}}hello{{end}}"],
    [
      "{{if .X}}true{{else if .Y}}false{{end}}",
      "{{if .X}}true{{else}}{{if .Y}}false{{end}}{{end}}",
    ],
    ["{{range $x, $y := .SI}}{{.}}{{end}}", "{{range $x, $y := .SI}}{{.}}{{end}}"],
    ["{{range .SI}}{{break}}{{continue}}{{end}}", "{{range .SI}}{{break}}{{continue}}{{end}}"],
    ["{{with .X}}hello{{else}}goodbye{{end}}", "{{with .X}}hello{{else}}goodbye{{end}}"],
    ["x \r\n\t{{- 3 -}}\n\n\ty", "x{{3}}y"],
    ["{{ $x \n := \n 1 \n }}", "{{$x := 1}}"],
    ['{{\n"x"\n|\nprintf\n}}', '{{"x" | printf}}'],
    ["{{ ((( 1 ))) }}", "{{(((1)))}}"],
    ["{{$x:=.}}{{$x +2}}", "{{$x := .}}{{$x +2}}"],
    ["{{range $x = 0}}{{$x}}{{end}}", "{{range $x = 0}}{{$x}}{{end}}"],
    ["{{printf `%d` 'a' nil true 1.5}}", "{{printf `%d` 'a' nil true 1.5}}"],
  ];
  for (const [src, want] of table) {
    test(src, () => {
      assert.equal(print(src), want);
    });
  }
});

describe("parse: what k8s-custom-metrics rejects", () => {
  const table: readonly (readonly [string, string])[] = [
    ["{{html .X}}", 'function "html" is not supported by k8s-custom-metrics'],
    ["{{js .X}}", 'function "js" is not supported by k8s-custom-metrics'],
    ["{{urlquery .X}}", 'function "urlquery" is not supported by k8s-custom-metrics'],
    ["{{slice .X 1}}", 'function "slice" is not supported by k8s-custom-metrics'],
    ["{{call .X}}", 'function "call" is not supported by k8s-custom-metrics'],
    [
      '{{template "x"}}',
      "{{template}} is not supported by k8s-custom-metrics (one template per field)",
    ],
    [
      '{{define "x"}}{{end}}',
      "{{define}} is not supported by k8s-custom-metrics (one template per field)",
    ],
    [
      '{{block "x" .}}{{end}}',
      "{{block}} is not supported by k8s-custom-metrics (one template per field)",
    ],
    ["{{1+2i}}", "complex constant 1+2i is not supported by k8s-custom-metrics"],
    ["{{1.5i}}", "complex constant 1.5i is not supported by k8s-custom-metrics"],
  ];
  for (const [src, want] of table) {
    test(src, () => {
      assert.throws(() => parseTemplate(src), { detail: want });
    });
  }
});
