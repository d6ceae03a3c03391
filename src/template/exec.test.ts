/**
 * @module template/exec.test
 * Execution parity with Go's text/template. The cases port src/text/template/exec_test.go
 * (`execTests`) within our subset, plus printf, trimming and error cases; every expected output
 * and error message was produced by Go 1.26 on the same template and equivalent data. Columns are
 * ours (1-based; Go's exec errors print a 0-based byte offset).
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { TemplateError, parseTemplate } from "./template.ts";
import { GoMap, goFloat, goStringMap, goStruct } from "./values.ts";

const intMap = (o: Record<string, number>): GoMap =>
  new GoMap("map[string]int", new Map(Object.entries(o)), 0);

/** A subset of exec_test.go's tVal, with the same values. */
const tVal = goStruct("main.T", {
  True: true,
  I: 17,
  X: "x",
  S: "xyz",
  FloatZero: goFloat(0),
  SI: [3, 4, 5],
  SIEmpty: [],
  SB: [true, false],
  MSI: intMap({ one: 1, two: 2, three: 3 }),
  MSIone: intMap({ one: 1 }),
  MSIEmpty: intMap({}),
  SMSI: [intMap({ one: 1, two: 2 }), intMap({ eleven: 11, twelve: 12 })],
  Empty0: null,
  Empty1: 3,
  Empty2: "empty2",
  Empty3: [7, 8],
  SS: ["a", "b"],
  MSS: goStringMap({ k: "v" }),
  U: goStruct("main.U", { V: "v" }),
});

const DATA: Readonly<Record<string, unknown>> = {
  nil: null,
  t: tVal,
  "13": 13,
  "15.1": 15.1,
  true: true,
  hello: "hello",
  map22: intMap({ two: 22 }),
  cause: goStringMap({ cause: "neglect" }),
  "46": 46,
  m: { a: 1, n: null, s: [], nested: { x: [1, "b", null] } },
};

type Want = { out: string } | { err: string; at: string };

/** [name, template, data key, expected] */
const CASES: readonly (readonly [string, string, string, Want])[] = [
  ["empty", "", "nil", { out: "" }],
  ["text", "some text", "nil", { out: "some text" }],
  ["nil action", "{{nil}}", "nil", { err: "nil is not a command", at: "1:3" }],
  ["ideal float", '{{printf "%T" 1.0}}', "nil", { out: "float64" }],
  [".X", "-{{.X}}-", "t", { out: "-x-" }],
  [
    ".unexported",
    "{{.unexported}}",
    "t",
    { err: "can't evaluate field unexported in type main.T", at: "1:3" },
  ],
  ["map .one", "{{.MSI.one}}", "t", { out: "1" }],
  ["map .NO", "{{.MSI.NO}}", "t", { out: "<no value>" }],
  [
    "map .WRONG args",
    "{{.MSI.one 1}}",
    "t",
    { err: "one is not a method but has arguments", at: "1:3" },
  ],
  ["dot int", "<{{.}}>", "13", { out: "<13>" }],
  ["dot float", "<{{.}}>", "15.1", { out: "<15.1>" }],
  ["dot bool", "<{{.}}>", "true", { out: "<true>" }],
  ["dot string", "<{{.}}>", "hello", { out: "<hello>" }],
  ["dot map", "<{{.}}>", "map22", { out: "<map[two:22]>" }],
  ["dot struct", "<{{.U}}>", "t", { out: "<{v}>" }],
  ["$ int", "{{$}}", "13", { out: "13" }],
  ["$.I", "{{$.I}}", "t", { out: "17" }],
  ["simple assignment", "{{$x := 2}}{{$x = 3}}{{$x}}", "t", { out: "3" }],
  ["nested assignment", "{{$x := 2}}{{if true}}{{$x = 3}}{{end}}{{$x}}", "t", { out: "3" }],
  [
    "nested assignment changes the last declaration",
    "{{$x := 1}}{{if true}}{{$x := 2}}{{if true}}{{$x = 3}}{{end}}{{end}}{{$x}}",
    "t",
    { out: "1" },
  ],
  ["empty nil", "{{.Empty0}}", "t", { out: "<no value>" }],
  ["empty with int", "{{.Empty1}}", "t", { out: "3" }],
  ["empty with string", "{{.Empty2}}", "t", { out: "empty2" }],
  ["field on nil", "{{.foo}}", "nil", { out: "<no value>" }],
  ["field on parenthesized nil", "{{(.).foo}}", "nil", { out: "<no value>" }],
  [
    "unparenthesized non-function",
    "{{1 2}}",
    "nil",
    { err: "can't give argument to non-function 1", at: "1:3" },
  ],
  [
    "parenthesized non-function",
    "{{(1) 2}}",
    "nil",
    { err: "can't give argument to non-function 1", at: "1:3" },
  ],
  ["parenthesized non-function with no args", "{{(1)}}", "nil", { out: "1" }],
  [
    "parens in pipeline",
    "{{printf `%d %d %d` (1) (2 | print 3) (len (print 4 5 6))}}",
    "t",
    { out: "1 %!d(string=3 2) 5" },
  ],
  ["parens: $ in paren", "{{($).X}}", "t", { out: "x" }],
  ["if true", "{{if true}}TRUE{{end}}", "t", { out: "TRUE" }],
  ["if false", "{{if false}}TRUE{{else}}FALSE{{end}}", "t", { out: "FALSE" }],
  ["if nil", "{{if nil}}TRUE{{end}}", "t", { err: "nil is not a command", at: "1:6" }],
  ["if 1", "{{if 1}}NON-ZERO{{else}}ZERO{{end}}", "t", { out: "NON-ZERO" }],
  ["if 0", "{{if 0}}NON-ZERO{{else}}ZERO{{end}}", "t", { out: "ZERO" }],
  ["if 1.5", "{{if 1.5}}NON-ZERO{{else}}ZERO{{end}}", "t", { out: "NON-ZERO" }],
  ["if 0.0", "{{if .FloatZero}}NON-ZERO{{else}}ZERO{{end}}", "t", { out: "ZERO" }],
  ["if emptystring", "{{if ``}}NON-EMPTY{{else}}EMPTY{{end}}", "t", { out: "EMPTY" }],
  ["if string", "{{if `notempty`}}NON-EMPTY{{else}}EMPTY{{end}}", "t", { out: "NON-EMPTY" }],
  ["if emptyslice", "{{if .SIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}", "t", { out: "EMPTY" }],
  ["if slice", "{{if .SI}}NON-EMPTY{{else}}EMPTY{{end}}", "t", { out: "NON-EMPTY" }],
  ["if emptymap", "{{if .MSIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}", "t", { out: "EMPTY" }],
  ["if map", "{{if .MSI}}NON-EMPTY{{else}}EMPTY{{end}}", "t", { out: "NON-EMPTY" }],
  ["if struct", "{{if .U}}TRUE{{else}}FALSE{{end}}", "t", { out: "TRUE" }],
  [
    "if $x with $y int",
    "{{if $x := true}}{{with $y := .I}}{{$x}},{{$y}}{{end}}{{end}}",
    "t",
    { out: "true,17" },
  ],
  [
    "if $x with $x int",
    "{{if $x := true}}{{with $x := .I}}{{$x}},{{end}}{{$x}}{{end}}",
    "t",
    { out: "17,true" },
  ],
  ["if else if", "{{if false}}FALSE{{else if true}}TRUE{{end}}", "t", { out: "TRUE" }],
  [
    "if else chain",
    "{{if eq 1 3}}1{{else if eq 2 3}}2{{else if eq 3 3}}3{{end}}",
    "t",
    { out: "3" },
  ],
  ["print", '{{print "hello, print"}}', "t", { out: "hello, print" }],
  ["print 123", "{{print 1 2 3}}", "t", { out: "1 2 3" }],
  ["print nil", "{{print nil}}", "t", { out: "<nil>" }],
  ["print mixed", '{{print 1 2 "a" "b" 3 nil}}', "t", { out: "1 2ab3 <nil>" }],
  ["println", "{{println 1 2 3}}", "t", { out: "1 2 3\n" }],
  ["printf int", '{{printf "%04x" 127}}', "t", { out: "007f" }],
  ["printf float", '{{printf "%g" 3.5}}', "t", { out: "3.5" }],
  ["printf string", '{{printf "%s" "hello"}}', "t", { out: "hello" }],
  ["printf dot", '{{with .I}}{{printf "%d" .}}{{end}}', "t", { out: "17" }],
  ["printf var", '{{with $x := .I}}{{printf "%d" $x}}{{end}}', "t", { out: "17" }],
  [
    "printf slice",
    '{{printf "%v|%q|%d|%s" .SS .SS .SI .SI}}',
    "t",
    { out: '[a b]|["a" "b"]|[3 4 5]|[%!s(int=3) %!s(int=4) %!s(int=5)]' },
  ],
  [
    "printf map struct",
    '{{printf "%v|%+v|%v" .MSI .U .SMSI}}',
    "t",
    { out: "map[one:1 three:3 two:2]|{V:v}|[map[one:1 two:2] map[eleven:11 twelve:12]]" },
  ],
  [
    "printf verbs",
    '{{printf "%.0f %.0f %.3g %g %e %8.3f|%-5d|%05d %x %X %q %c %U" 0.5 2.5 1.0 100000.0 1234.5678 3.14159 42 -42 255 "hi" "a\\x01\\"" 65 65}}',
    "t",
    { out: '0 2 1 100000 1.234568e+03    3.142|42   |-0042 ff 6869 "a\\x01\\"" A U+0041' },
  ],
  [
    "printf bad verbs",
    '{{printf "%d %s %d" "x" 5}}',
    "t",
    { out: "%!d(string=x) %!s(int=5) %!d(MISSING)" },
  ],
  ["printf extra", '{{printf "%d" 1 2 "s"}}', "t", { out: "1%!(EXTRA int=2, string=s)" }],
  ["printf noverb", '{{printf "abc%"}}', "t", { out: "abc%!(NOVERB)" }],
  ["printf percent", '{{printf "100%% %v" true}}', "t", { out: "100% true" }],
  [
    "printf floats",
    '{{printf "%v %v %v %v %v %v %v" 1e6 123456.0 1.5 1e21 123456789.0 0.0001 0.00001}}',
    "t",
    { out: "1e+06 123456 1.5 1e+21 1.23456789e+08 0.0001 1e-05" },
  ],
  [
    "printf rounding",
    '{{printf "%.1f %.1f %.2f %.3e %.10g" 0.25 0.35 2.675 1.0005 .FloatZero}}',
    "t",
    { out: "0.2 0.3 2.67 1.000e+00 0" },
  ],
  [
    "printf width",
    '{{printf "[%5s][%-5s][%05s][%.2s][%5.1f][%-8v][%+d][% d]" "ab" "ab" "ab" "xyz" 3.14159 .SS 5 5}}',
    "t",
    { out: "[   ab][ab   ][000ab][xy][  3.1][[a        b       ]][+5][ 5]" },
  ],
  [
    "printf star",
    '{{printf "[%*d][%.*f][%-*d]" 5 7 2 3.14159 4 1}}',
    "t",
    { out: "[    7][3.14][1   ]" },
  ],
  ["printf index", '{{printf "%[2]d %[1]d" 1 2}}', "t", { out: "2 1" }],
  [
    "printf q unicode",
    '{{printf "%q %+q %#q %x % x" "é\\t" "é" "a`b" "hi" "hi"}}',
    "t",
    { out: '"é\\t" "\\u00e9" "a`b" 6869 68 69' },
  ],
  [
    "printf nil",
    '{{printf "%v %d %s" nil nil .Empty0}}',
    "t",
    { out: "<nil> %!d(<nil>) %!s(<nil>)" },
  ],
  ["printf missing", '{{printf "%v %v" 1}}', "t", { out: "1 %!v(MISSING)" }],
  [
    "printf bool",
    '{{printf "%t %v %d" true false true}}',
    "t",
    { out: "true false %!d(bool=true)" },
  ],
  ["printf char", "{{printf \"%c %q %v %d\" 'x' 'y' 'z' '\\n'}}", "t", { out: "x 'y' 122 10" }],
  [
    "printf hex",
    '{{printf "%x %X %#x %o %#o %b" -255 255 255 8 8 5}}',
    "t",
    { out: "-ff FF 0xff 10 010 101" },
  ],
  [
    "printf inf",
    '{{printf "%v %v" 1e309 -1e309}}',
    "t",
    { err: 'illegal number syntax: "1e309"', at: "1:18" },
  ],
  ["not", "{{not true}} {{not false}}", "nil", { out: "false true" }],
  ["and", "{{and false 0}} {{and 1 0}} {{and 0 true}} {{and 1 1}}", "nil", { out: "false 0 0 1" }],
  ["or", "{{or 0 0}} {{or 1 0}} {{or 0 true}} {{or 1 1}}", "nil", { out: "0 1 true 1" }],
  ["or short-circuit", "{{or 0 1 (index nil 1)}}", "nil", { out: "1" }],
  ["and short-circuit", "{{and 1 0 (index nil 1)}}", "nil", { out: "0" }],
  [
    "or short-circuit2",
    "{{or 0 0 (index nil 1)}}",
    "nil",
    { err: "error calling index: index of untyped nil", at: "1:11" },
  ],
  ["and pipe-true", "{{1 | and 1}}", "nil", { out: "1" }],
  ["and pipe-false", "{{0 | and 1}}", "nil", { out: "0" }],
  ["or pipe-true", "{{1 | or 0}}", "nil", { out: "1" }],
  ["or pipe-false", "{{0 | or 0}}", "nil", { out: "0" }],
  ["and undef", "{{and 1 .Unknown}}", "nil", { out: "<no value>" }],
  ["or undef", "{{or 0 .Unknown}}", "nil", { out: "<no value>" }],
  ["boolean if", "{{if and true 1 `hi`}}TRUE{{else}}FALSE{{end}}", "t", { out: "TRUE" }],
  [
    "boolean if not",
    "{{if and true 1 `hi` | not}}TRUE{{else}}FALSE{{end}}",
    "nil",
    { out: "FALSE" },
  ],
  ["boolean if pipe", "{{if true | not | and 1}}TRUE{{else}}FALSE{{end}}", "nil", { out: "FALSE" }],
  ["map[one]", "{{index .MSI `one`}}", "t", { out: "1" }],
  ["map[NO]", "{{index .MSI `XXX`}}", "t", { out: "0" }],
  [
    "map[nil]",
    "{{index .MSI nil}}",
    "t",
    { err: "error calling index: value is nil; should be of type string", at: "1:3" },
  ],
  ["map[``]", "{{index .MSI ``}}", "t", { out: "0" }],
  [
    "map[WRONG]",
    "{{index .MSI 10}}",
    "t",
    { err: "error calling index: value has type int; should be string", at: "1:3" },
  ],
  ["string map[NO]", "{{index .MSS `XXX`}}|{{.MSS.XXX}}", "t", { out: "|<no value>" }],
  ["double index", "{{index .SMSI 1 `eleven`}}", "t", { out: "11" }],
  ["slice[0]", "{{index .SI 0}}", "t", { out: "3" }],
  ["slice[2]", "{{index .SI 2}}", "t", { out: "5" }],
  [
    "slice[3]",
    "{{index .SI 3}}",
    "t",
    { err: "error calling index: reflect: slice index out of range", at: "1:3" },
  ],
  [
    "slice[HUGE]",
    "{{index .SI 10}}",
    "t",
    { err: "error calling index: index out of range: 10", at: "1:3" },
  ],
  [
    "slice[-1]",
    "{{index .SI -1}}",
    "t",
    { err: "error calling index: index out of range: -1", at: "1:3" },
  ],
  [
    "slice[WRONG]",
    "{{index .SI `hello`}}",
    "t",
    { err: "error calling index: cannot index slice/array with type string", at: "1:3" },
  ],
  [
    "slice[nil]",
    "{{index .SI nil}}",
    "t",
    { err: "error calling index: cannot index slice/array with nil", at: "1:3" },
  ],
  ["string[1]", "{{index .X 0}}", "t", { out: "120" }],
  [
    "nil[1]",
    "{{index nil 1}}",
    "t",
    { err: "error calling index: index of untyped nil", at: "1:3" },
  ],
  ["index of an interface field", "{{index .Empty3 0}}", "t", { out: "7" }],
  [
    "index of struct",
    "{{index .U 0}}",
    "t",
    { err: "error calling index: can't index item of type main.U", at: "1:3" },
  ],
  ["len slice", "{{len .SI}}", "t", { out: "3" }],
  ["len map", "{{len .MSI }}", "t", { out: "3" }],
  ["len empty", "{{len .SIEmpty}}", "t", { out: "0" }],
  ["len string", "{{len .S}} {{len `héllo`}}", "t", { out: "3 6" }],
  ["len of int", "{{len 3}}", "t", { err: "error calling len: len of type int", at: "1:3" }],
  ["len of an interface field", "{{len .Empty3}}", "t", { out: "2" }],
  [
    "len args",
    "{{len .SI .SI}}",
    "t",
    { err: "wrong number of args for len: want 1 got 2", at: "1:3" },
  ],
  ["with true", "{{with true}}{{.}}{{end}}", "t", { out: "true" }],
  ["with false", "{{with false}}{{.}}{{else}}FALSE{{end}}", "t", { out: "FALSE" }],
  ["with 1", "{{with 1}}{{.}}{{else}}ZERO{{end}}", "t", { out: "1" }],
  ["with 0", "{{with 0}}{{.}}{{else}}ZERO{{end}}", "t", { out: "ZERO" }],
  ["with 1.5", "{{with 1.5}}{{.}}{{else}}ZERO{{end}}", "t", { out: "1.5" }],
  ["with 0.0", "{{with .FloatZero}}{{.}}{{else}}ZERO{{end}}", "t", { out: "ZERO" }],
  ["with emptystring", "{{with ``}}{{.}}{{else}}EMPTY{{end}}", "t", { out: "EMPTY" }],
  ["with string", "{{with `notempty`}}{{.}}{{else}}EMPTY{{end}}", "t", { out: "notempty" }],
  ["with emptymap", "{{with .MSIEmpty}}{{.}}{{else}}EMPTY{{end}}", "t", { out: "EMPTY" }],
  ["with map", "{{with .MSIone}}{{.}}{{else}}EMPTY{{end}}", "t", { out: "map[one:1]" }],
  ["with $x int", "{{with $x := .I}}{{$x}}{{end}}", "t", { out: "17" }],
  ["with else with", "{{with 0}}{{.}}{{else with true}}{{.}}{{end}}", "t", { out: "true" }],
  [
    "with else with chain",
    "{{with 0}}{{.}}{{else with false}}{{.}}{{else with `notempty`}}{{.}}{{end}}",
    "t",
    { out: "notempty" },
  ],
  ["range []int", "{{range .SI}}-{{.}}-{{end}}", "t", { out: "-3--4--5-" }],
  ["range empty no else", "{{range .SIEmpty}}-{{.}}-{{end}}", "t", { out: "" }],
  ["range []int else", "{{range .SI}}-{{.}}-{{else}}EMPTY{{end}}", "t", { out: "-3--4--5-" }],
  ["range empty else", "{{range .SIEmpty}}-{{.}}-{{else}}EMPTY{{end}}", "t", { out: "EMPTY" }],
  [
    "range []int break else",
    "{{range .SI}}-{{.}}-{{break}}NOTREACHED{{else}}EMPTY{{end}}",
    "t",
    { out: "-3-" },
  ],
  [
    "range []int continue else",
    "{{range .SI}}-{{.}}-{{continue}}NOTREACHED{{else}}EMPTY{{end}}",
    "t",
    { out: "-3--4--5-" },
  ],
  [
    "range break in if",
    "{{range .SI}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}",
    "t",
    { out: "3" },
  ],
  [
    "range continue in if",
    "{{range .SI}}{{if eq . 4}}{{continue}}{{end}}{{.}}{{end}}",
    "t",
    { out: "35" },
  ],
  ["range []bool", "{{range .SB}}-{{.}}-{{end}}", "t", { out: "-true--false-" }],
  ["range map", "{{range .MSI}}-{{.}}-{{end}}", "t", { out: "-1--3--2-" }],
  ["range empty map no else", "{{range .MSIEmpty}}-{{.}}-{{end}}", "t", { out: "" }],
  ["range empty map else", "{{range .MSIEmpty}}-{{.}}-{{else}}EMPTY{{end}}", "t", { out: "EMPTY" }],
  ["range empty interface", "{{range .Empty3}}-{{.}}-{{else}}EMPTY{{end}}", "t", { out: "-7--8-" }],
  ["range empty nil", "{{range .Empty0}}-{{.}}-{{end}}", "t", { out: "" }],
  ["range $x SI", "{{range $x := .SI}}<{{$x}}>{{end}}", "t", { out: "<3><4><5>" }],
  [
    "range $x $y SI",
    "{{range $x, $y := .SI}}<{{$x}}={{$y}}>{{end}}",
    "t",
    { out: "<0=3><1=4><2=5>" },
  ],
  ["range $x MSIone", "{{range $x := .MSIone}}<{{$x}}>{{end}}", "t", { out: "<1>" }],
  [
    "range $x $y MSIone",
    "{{range $x, $y := .MSIone}}<{{$x}}={{$y}}>{{end}}",
    "t",
    { out: "<one=1>" },
  ],
  [
    "range $x $y MSI",
    "{{range $k, $v := .MSI}}{{$k}}={{$v}};{{end}}",
    "t",
    { out: "one=1;three=3;two=2;" },
  ],
  [
    "range assign",
    "{{$i := 0}}{{$v := 0}}{{range $i, $v = .SI}}{{end}}{{$i}}-{{$v}}",
    "t",
    { out: "2-5" },
  ],
  [
    "range 5",
    '{{range $v := 5}}{{printf "%T%d" $v $v}}{{end}}',
    "nil",
    { out: "int0int1int2int3int4" },
  ],
  ["range 0", "{{range 0}}x{{else}}empty{{end}}", "nil", { out: "empty" }],
  [
    "range int two vars",
    "{{range $i, $v := 3}}{{end}}",
    "nil",
    { err: "can't use 3 to iterate over more than one variable", at: "1:9" },
  ],
  ["range string", "{{range .X}}{{end}}", "t", { err: "range can't iterate over x", at: "1:9" }],
  ["range struct", "{{range .U}}{{end}}", "t", { err: "range can't iterate over {v}", at: "1:9" }],
  ["decimal", "{{print 1234}}", "t", { out: "1234" }],
  ["decimal _", "{{print 12_34}}", "t", { out: "1234" }],
  ["binary", "{{print 0b101}}", "t", { out: "5" }],
  ["binary _", "{{print 0b_1_0_1}}", "t", { out: "5" }],
  ["BINARY", "{{print 0B101}}", "t", { out: "5" }],
  ["octal0", "{{print 0377}}", "t", { out: "255" }],
  ["octal", "{{print 0o377}}", "t", { out: "255" }],
  ["octal _", "{{print 0o_3_7_7}}", "t", { out: "255" }],
  ["OCTAL", "{{print 0O377}}", "t", { out: "255" }],
  ["hex", "{{print 0x123}}", "t", { out: "291" }],
  ["hex _", "{{print 0x1_23}}", "t", { out: "291" }],
  ["HEX", "{{print 0X123ABC}}", "t", { out: "1194684" }],
  ["float", "{{print 123.4}}", "t", { out: "123.4" }],
  ["float _", "{{print 0_0_1_2_3.4}}", "t", { out: "123.4" }],
  ["hex float", "{{print +0x1.ep+2}}", "t", { out: "7.5" }],
  ["hex float _", "{{print +0x_1.e_0p+0_2}}", "t", { out: "7.5" }],
  ["HEX float", "{{print +0X1.EP+2}}", "t", { out: "7.5" }],
  ["print multi", "{{print 1_2_3_4 7.5_00_00_00}}", "t", { out: "1234 7.5" }],
  ["print multi2", "{{print 1234 0x0_1.e_0p+02}}", "t", { out: "1234 7.5" }],
  ["bug4", "{{if .Empty0}}non-nil{{else}}nil{{end}}", "t", { out: "nil" }],
  ["bug7a", "{{3 2}}", "t", { err: "can't give argument to non-function 3", at: "1:3" }],
  [
    "bug7b",
    "{{$x := 1}}{{$x 2}}",
    "t",
    { err: "can't give argument to non-function $x", at: "1:14" },
  ],
  [
    "bug7c",
    "{{$x := 1}}{{3 | $x}}",
    "t",
    { err: "can't give argument to non-function $x", at: "1:18" },
  ],
  ["bug8a", "{{3|len}}", "t", { err: "error calling len: len of type int", at: "1:5" }],
  ["bug9", "{{.cause}}", "cause", { out: "neglect" }],
  ["bug12xe", "{{printf `%T` 0xef}}", "t", { out: "int" }],
  ["bug14a", "{{(nil).True}}", "t", { err: "nil is not a command", at: "1:4" }],
  ["bug14b", "{{$x := nil}}{{$x.anything}}", "t", { err: "nil is not a command", at: "1:9" }],
  [
    "bug14c",
    '{{$x := (1.0)}}{{$y := ("hello")}}{{$x.anything}}{{$y.true}}',
    "t",
    { err: "can't evaluate field anything in type float64", at: "1:37" },
  ],
  [
    "bug16a",
    "{{true|printf}}",
    "t",
    { err: "wrong type for value; expected string; got bool", at: "1:8" },
  ],
  [
    "bug16b",
    "{{1|printf}}",
    "t",
    { err: "wrong type for value; expected string; got int", at: "1:5" },
  ],
  [
    "bug16c",
    "{{1.1|printf}}",
    "t",
    { err: "wrong type for value; expected string; got float64", at: "1:7" },
  ],
  [
    "bug16d",
    "{{'x'|printf}}",
    "t",
    { err: "wrong type for value; expected string; got int", at: "1:7" },
  ],
  ["bug16k", '{{"aaa"|printf }}', "t", { out: "aaa" }],
  ["bug18a", "{{eq . '.'}}", "46", { out: "true" }],
  [
    "eq",
    "{{eq 1 1}} {{eq 1 2}} {{eq 1 2 3 1}} {{eq `a` `a`}} {{eq true false}} {{eq 1.5 1.5}} {{eq .Empty0 nil}}",
    "t",
    { out: "true false true true false true true" },
  ],
  [
    "eq mismatch",
    "{{eq 1 1.0}}",
    "t",
    { err: "error calling eq: incompatible types for comparison: int and float64", at: "1:3" },
  ],
  [
    "eq one arg",
    "{{eq 1}}",
    "t",
    { err: "error calling eq: missing argument for comparison", at: "1:3" },
  ],
  [
    "eq string int",
    "{{eq `1` 1}}",
    "t",
    { err: "error calling eq: incompatible types for comparison: string and int", at: "1:3" },
  ],
  ["eq nil nil", "{{eq nil nil}} {{eq .SI nil}}", "t", { out: "true false" }],
  [
    "eq slices",
    "{{eq .SI .SI}}",
    "t",
    {
      err: "error calling eq: non-comparable type [%!s(int=3) %!s(int=4) %!s(int=5)]: []int",
      at: "1:3",
    },
  ],
  ["eq structs", "{{eq .U .U}}", "t", { out: "true" }],
  ["ne", "{{ne 1 1}} {{ne 1 2}} {{ne `a` `b`}}", "t", { out: "false true true" }],
  [
    "lt",
    "{{lt 1 2}} {{lt 2 1}} {{lt 1.5 2.5}} {{lt `a` `b`}} {{le 2 2}} {{gt 3 2}} {{ge 2 3}}",
    "t",
    { out: "true false true true true true false" },
  ],
  [
    "lt bool",
    "{{lt true false}}",
    "t",
    { err: "error calling lt: invalid type for comparison", at: "1:3" },
  ],
  [
    "lt mismatch",
    "{{lt 1 `a`}}",
    "t",
    { err: "error calling lt: incompatible types for comparison: int and string", at: "1:3" },
  ],
  [
    "lt nil",
    "{{lt nil 1}}",
    "t",
    { err: "error calling lt: invalid type for comparison", at: "1:3" },
  ],
  ["lt args", "{{lt 1}}", "t", { err: "wrong number of args for lt: want 2 got 1", at: "1:3" }],
  [
    "variables",
    "{{$a := .X}}{{$b := .I}}{{$a}}{{$b}}{{$}}",
    "13",
    { err: "can't evaluate field X in type int", at: "1:9" },
  ],
  [
    "variable shadow in range",
    "{{$x := 1}}{{range .SI}}{{$x := .}}{{$x}}{{end}}{{$x}}",
    "t",
    { out: "3451" },
  ],
  ["chain on variable", "{{$u := .U}}{{$u.V}}", "t", { out: "v" }],
  ["chain on pipe", "{{(index .SMSI 0).one}}", "t", { out: "1" }],
  [
    "field on struct arg",
    "{{.U.V}} {{.U.W}}",
    "t",
    { err: "can't evaluate field W in type main.U", at: "1:12" },
  ],
  ["trim", "a  {{- 1 -}}  b {{- 2}} c {{3 -}} d", "nil", { out: "a1b2 c 3d" }],
  ["trim newline", 'x\n\t{{- "y" -}}\n\tz', "nil", { out: "xyz" }],
  ["comment", "a{{/* a comment */}}b", "nil", { out: "ab" }],
  ["comment trim", "a {{- /* a comment */ -}} b", "nil", { out: "ab" }],
  ["comment multiline", "a{{/* line1\nline2 */}}b", "nil", { out: "ab" }],
  ["raw string", "{{`a\\nb`}}", "nil", { out: "a\\nb" }],
  ["string escapes", '{{"a\\tb\\u00e9\\x41\\101"}}', "nil", { out: "a\tbéAA" }],
  ["char literal", "{{'a'}} {{'\\n'}} {{'\\u00e9'}}", "nil", { out: "97 10 233" }],
  [
    "negative numbers",
    "{{-1}} {{+2}} {{-1.5}} {{1e3}} {{1e-3}} {{.5}}",
    "nil",
    { out: "-1 2 -1.5 1000 0.001 0.5" },
  ],
  ["pipe final arg", '{{"x" | printf "%s-%s" "y"}}', "nil", { out: "y-x" }],
  ["pipe chain", '{{.SI | len | printf "%03d"}}', "t", { out: "003" }],
  ["pipe decl", "{{$n := .SI | len}}{{$n}}", "t", { out: "3" }],
  ["parenthesized decl", "{{($x := 5)}}{{$x}}", "nil", { out: "55" }],
  [
    "print struct",
    "{{.U}} {{.MSS}} {{.SMSI}} {{.SB}} {{.SIEmpty}}",
    "t",
    { out: "{v} map[k:v] [map[one:1 two:2] map[eleven:11 twelve:12]] [true false] []" },
  ],
  ["print nested map", "{{.}}", "m", { out: "map[a:1 n:<nil> nested:map[x:[1 b <nil>]] s:[]]" }],
  ["print float data", "{{.}}", "15.1", { out: "15.1" }],
  [
    "map key nil value",
    '{{.n}}|{{print .n}}|{{index . "n"}}|{{print (index . "n")}}',
    "m",
    { out: "<no value>|<nil>|<no value>|<nil>" },
  ],
  [
    "index missing any map",
    '{{index . "zz"}}|{{print (index . "zz")}}',
    "m",
    { out: "<no value>|<nil>" },
  ],
  ["field of field on map", "{{.a}}", "m", { out: "1" }],
  [
    "can't give args to dot",
    "{{. 1}}",
    "t",
    { err: "can't give argument to non-function .", at: "1:3" },
  ],
  [
    "can't give args to var",
    "{{$ 1}}",
    "t",
    { err: "can't give argument to non-function $", at: "1:3" },
  ],
  ["nil command", "{{nil 1}}", "t", { err: "can't give argument to non-function nil", at: "1:3" }],
  [
    "field has args",
    "{{.X 1}}",
    "t",
    { err: "X has arguments but cannot be invoked as function", at: "1:3" },
  ],
  [
    "wrong args not",
    "{{not}}",
    "t",
    { err: "wrong number of args for not: want 1 got 0", at: "1:3" },
  ],
  [
    "wrong args not 2",
    "{{not 1 2}}",
    "t",
    { err: "wrong number of args for not: want 1 got 2", at: "1:3" },
  ],
  ["printf needs string", "{{printf 1}}", "t", { err: "expected string; found 1", at: "1:10" }],
  [
    "printf needs string value",
    "{{printf .I}}",
    "t",
    { err: "wrong type for value; expected string; got int", at: "1:10" },
  ],
  ["printf nil format", "{{printf nil}}", "t", { err: "cannot assign nil to string", at: "1:10" }],
];

function run(src: string, data: unknown): string {
  return parseTemplate(src, { name: "t" }).execute(data);
}

describe("exec: Go text/template parity", () => {
  for (const [name, src, key, want] of CASES) {
    test(name, () => {
      if ("out" in want) {
        assert.equal(run(src, DATA[key]), want.out);
        return;
      }
      assert.throws(
        () => run(src, DATA[key]),
        (err: unknown) => {
          assert.ok(err instanceof TemplateError);
          assert.equal(err.detail, want.err);
          assert.equal(`${err.line}:${err.col}`, want.at);
          return true;
        },
      );
    });
  }
});

describe("exec: error message shape", () => {
  test("names the template, position and node as Go does", () => {
    assert.throws(() => run("x\n  {{index .SI 10}}", tVal), {
      name: "TemplateError",
      message:
        'template: t:2:5: executing "t" at <index .SI 10>: error calling index: index out of range: 10',
    });
  });

  test("a struct field Go would not find", () => {
    assert.throws(() => run("{{.Nope}}", tVal), {
      message:
        'template: t:1:3: executing "t" at <.Nope>: can\'t evaluate field Nope in type main.T',
    });
  });

  test("exec errors carry phase exec; output is not returned", () => {
    try {
      run("partial {{.U.W}}", tVal);
      assert.fail("expected an error");
    } catch (err) {
      assert.ok(err instanceof TemplateError);
      assert.equal(err.phase, "exec");
      assert.equal(err.templateName, "t");
    }
  });
});

describe("exec: data model", () => {
  test("plain objects are maps: a missing key prints <no value>", () => {
    assert.equal(run("{{.a}}|{{.b}}", { a: 1 }), "1|<no value>");
  });

  test("JS Map works like a plain object", () => {
    assert.equal(run("{{.a}} {{.}}", new Map([["a", "x"]])), "x map[a:x]");
  });

  test("whole numbers are ints, others float64", () => {
    assert.equal(
      run('{{printf "%T %T %T" .a .b .c}}', { a: 2, b: 2.5, c: goFloat(2) }),
      "int float64 float64",
    );
  });

  test("undefined behaves as nil", () => {
    assert.equal(
      run("{{.a}}|{{print .a}}|{{if .a}}y{{else}}n{{end}}", { a: undefined }),
      "<no value>|<nil>|n",
    );
  });

  test("range over a map visits keys in sorted order", () => {
    assert.equal(
      run("{{range $k, $v := .}}{{$k}}={{$v}} {{end}}", { b: 2, a: 1, c: 3 }),
      "a=1 b=2 c=3 ",
    );
  });

  test("variables declared in a range body do not leak", () => {
    assert.equal(run("{{$x := 0}}{{range .}}{{$x = .}}{{end}}{{$x}}", [1, 2, 3]), "3");
  });
});
