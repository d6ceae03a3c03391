/**
 * @module template/printf.test
 * fmt.Sprintf parity: flags, width, precision, `*`, argument indexes, verbs per kind, and the
 * error forms (`%!d(string=x)`, MISSING, EXTRA, NOVERB, BADINDEX, BADWIDTH). Expected strings come
 * from Go 1.26's fmt.Sprintf on equivalent arguments.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { sprintf } from "./printf.ts";
import { GoMap, goFloat, goStringMap, goStruct } from "./values.ts";

const intMap = (o: Record<string, number>): GoMap =>
  new GoMap("map[string]int", new Map(Object.entries(o)), 0);
const S = (a: number, b: string) => goStruct("main.S", { A: a, B: b });

/** [format, args, Go's fmt.Sprintf result] */
const CASES: readonly (readonly [string, readonly unknown[], string])[] = [
  [
    "%06s|%6.2s|%-6q|%+d|% d|%#x|%#o|%08.3f|%+.2e|%x|%.2f|%5t",
    ["ab", "xyz", "a", 5, 5, 255, 8, -3.14159, 12345.678, "héllo", 2.675, true],
    '0000ab|    xy|"a"   |+5| 5|0xff|010|-003.142|+1.23e+04|68c3a96c6c6f|2.67| true',
  ],
  [
    "%5v|%q|%v|%+v|%s|%d|%v",
    [[1, 2], ["a", "b"], intMap({ b: 2, a: 1 }), S(1, "x"), null, null, [null, 1, "a"]],
    '[    1     2]|["a" "b"]|map[a:1 b:2]|{A:1 B:x}|%!s(<nil>)|%!d(<nil>)|[<nil> 1 a]',
  ],
  [
    "%q|%q|%+q|%#q|%x|%X|% x|%#x|%c|%q|%U|%#U",
    [
      "\x7f\u00a0é\u{1F600}\t",
      120,
      "é",
      "a`b",
      -255,
      "hi",
      "hi",
      "hi",
      0x1f600,
      0x1f600,
      0x1f600,
      120,
    ],
    "\"\\x7f\\u00a0é😀\\t\"|'x'|\"\\u00e9\"|\"a`b\"|-ff|6869|68 69|0x6869|😀|'😀'|U+1F600|U+0078 'x'",
  ],
  [
    "%g|%G|%.3g|%.10g|%g|%g|%e|%.0e|%f|%.1f|%.1f|%g|%E|%F",
    [
      1e-5,
      1e-7,
      goFloat(1234567),
      1 / 3,
      goFloat(1e20),
      goFloat(1e21),
      goFloat(0),
      goFloat(15),
      goFloat(1e22),
      0.25,
      0.35,
      goFloat(2 ** 53),
      1234.5678,
      1.5,
    ],
    "1e-05|1E-07|1.23e+06|0.3333333333|1e+20|1e+21|0.000000e+00|2e+01|10000000000000000000000.000000|0.2|0.3|9.007199254740992e+15|1.234568E+03|1.500000",
  ],
  [
    "%d|%v|%s|%t|%*d|%.*f|%",
    [true, 120, 3.5, 1, 5, 7, 2, 3.14159],
    "%!d(bool=true)|120|%!s(float64=3.5)|%!t(int=1)|    7|3.14|%!(NOVERB)",
  ],
  [
    "%+v|%+v|%+d|%[2]d %[1]d|%[3]d|%-05d|%+v|%5.1v|%#v",
    [5, 1.5, 3, S(1, "y"), goFloat(255)],
    "5|1.5|+3|%!d(float64=1.5) 5|3|{1     %!d(string=y    )}|255|%!v(MISSING)|%!v(MISSING)",
  ],
  ["%v %d", [1], "1 %!d(MISSING)"],
  ["%d %d", [1, 2, "x", null], "1 2%!(EXTRA string=x, <nil>)"],
  ["%[5]d|%[0]d|%[x]d|%[1]", [1], "%!d(BADINDEX)|%!d(BADINDEX)|%!d(BADINDEX)|%!(NOVERB)"],
  ["%-*d|%*d|%.*d", [-4, 1, "w", 2, 3, 4], "1   |%!(BADWIDTH)2|004"],
  [
    "%b|%o|%O|%x|%X|%08b|%-8x|%+.3d|% 05d|%.0d",
    [5, 64, 64, -31, 3054, 5, 255, 7, 42, 0],
    "101|100|0o100|-1f|BEE|00000101|ff      |+007| 0042|",
  ],
  [
    "%6.2f|%-8.3e|%+g|% g|%010.4f|%-010.2f|%v|%v",
    [3.14159, 1234.5, 2.5, 2.5, -3.14159, 1.5, goFloat(1e100), goFloat(-0)],
    "  3.14|1.234e+03|+2.5| 2.5|-0003.1416|1.50      |1e+100|-0", // Go: math.Copysign(0, -1)
  ],
  [
    "%s|%v|%d",
    [["a", 1, true], { z: [1], a: null }, ["x"]],
    "[a %!s(int=1) %!s(bool=true)]|map[a:<nil> z:[1]]|[%!d(string=x)]",
  ],
  ["%t|%v|%s|%q", [false, true, true, true], "false|true|%!s(bool=true)|%!q(bool=true)"],
  ["%s|%.3s|%-4s|%4s|%v", ["日本語", "日本語", "é", "é", ""], "日本語|日本語|é   |   é|"],
  // Width counts runes: a character outside the BMP (two UTF-16 units) is one.
  ["%4s|%-3s|%2s", ["😀", "a😀", "😀😀😀"], "   😀|a😀 |😀😀😀"],
  ["%%|%5%|%-5%", [], "%|%|%"],
  ["%!|%z|%é", [1, 2, 3], "%!!(int=1)|%!z(int=2)|%!é(int=3)"],
  [
    "%T|%T|%T|%T|%T|%T|%T",
    [1, 1.5, "s", true, null, ["x"], goStringMap({})],
    "int|float64|string|bool|<nil>|[]string|map[string]string",
  ],
];

describe("sprintf", () => {
  for (const [format, args, want] of CASES) {
    test(format, () => {
      assert.equal(sprintf(format, args), want);
    });
  }

  test("%T names the type", () => {
    assert.equal(sprintf("%T %T", [[], intMap({})]), "[]interface {} map[string]int");
  });
});
