/**
 * @module apimachinery/label-selector.test
 * Cases restated from apimachinery `pkg/labels/selector_test.go`, plus error texts and the
 * metav1.LabelSelector echo.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  LabelSelector,
  LabelSelectorError,
  newRequirement,
  requirementToString,
  type Requirement,
  type SelectorOperator,
} from "./label-selector.ts";
import { toLabelSelectorJson } from "./label-selector-json.ts";
import { parseLabelSelector, parseRequirements } from "./label-selector-parser.ts";

function req(key: string, operator: SelectorOperator, values: string[] = []): Requirement {
  return { key, operator, values };
}

describe("parseLabelSelector round trip (TestSelectorParse)", () => {
  const good = [
    "x=a,y=b,z=c",
    "",
    "x!=a,y=b",
    "x=",
    "x= ",
    "x=,z= ",
    "x= ,z= ",
    "!x",
    "x>1",
    "x>1,z<5",
  ];
  for (const input of good) {
    it(`accepts ${JSON.stringify(input)} and re-prints it without spaces`, () => {
      assert.equal(parseLabelSelector(input).toString(), input.replaceAll(" ", ""));
    });
  }
  const bad = ["x=a||y=b", "x==a==b", "!x=a", "x<a"];
  for (const input of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseLabelSelector(input), LabelSelectorError);
    });
  }
  it("is deterministic regardless of input order", () => {
    assert.equal(
      parseLabelSelector("x=a,a=x").toString(),
      parseLabelSelector("a=x,x=a").toString(),
    );
  });
});

describe("matches (TestSelectorMatches)", () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ["", { x: "y" }, true],
    ["x=y", { x: "y" }, true],
    ["x=y,z=w", { x: "y", z: "w" }, true],
    ["x!=y,z!=w", { x: "z", z: "a" }, true],
    ["notin=in", { notin: "in" }, true],
    ["x", { x: "z" }, true],
    ["!x", { y: "z" }, true],
    ["x>1", { x: "2" }, true],
    ["x<1", { x: "0" }, true],
    ["x=z", {}, false],
    ["x=y", { x: "z" }, false],
    ["x=y,z=w", { x: "w", z: "w" }, false],
    ["x!=y,z!=w", { x: "z", z: "w" }, false],
    ["x", { y: "z" }, false],
    ["!x", { x: "z" }, false],
    ["x>1", { x: "0" }, false],
    ["x<1", { x: "2" }, false],
    ["foo=bar", { foo: "bar", baz: "blah" }, true],
    ["baz=blah", { foo: "bar", baz: "blah" }, true],
    ["foo=bar,baz=blah", { foo: "bar", baz: "blah" }, true],
    ["foo=blah", { foo: "bar", baz: "blah" }, false],
    ["baz=bar", { foo: "bar", baz: "blah" }, false],
    ["foo=bar,foobar=bar,baz=blah", { foo: "bar", baz: "blah" }, false],
    ["x in (a,b)", { x: "b" }, true],
    ["x notin (a,b)", { y: "b" }, true],
    ["x>1", { x: "v2" }, false],
    ["constructor", {}, false],
  ];
  for (const [selector, labels, want] of cases) {
    it(`${JSON.stringify(selector)} vs ${JSON.stringify(labels)} → ${String(want)}`, () => {
      assert.equal(parseLabelSelector(selector).matches(labels), want);
    });
  }
  it("accepts a Map", () => {
    assert.equal(parseLabelSelector("a=b").matches(new Map([["a", "b"]])), true);
  });
});

describe("requirement matching (TestRequirementSelectorMatching)", () => {
  const cases: [Record<string, string>, Requirement[], boolean][] = [
    [{ x: "foo", y: "baz" }, [req("x", "in", ["foo"]), req("y", "notin", ["alpha"])], true],
    [{ x: "foo", y: "baz" }, [req("x", "in", ["foo"]), req("y", "in", ["alpha"])], false],
    [{ y: "" }, [req("x", "notin", [""]), req("y", "exists")], true],
    [{ y: "" }, [req("x", "!"), req("y", "exists")], true],
    [{ y: "" }, [req("x", "notin", [""]), req("y", "!")], false],
    [{ y: "baz" }, [req("x", "in", [""])], false],
    [{ z: "2" }, [req("z", "gt", ["1"])], true],
    [{ z: "v2" }, [req("z", "gt", ["1"])], false],
  ];
  cases.forEach(([labels, reqs, want], i) => {
    it(`case ${i}`, () => {
      assert.equal(new LabelSelector(reqs).matches(labels), want);
    });
  });
});

describe("parsed requirements (TestSetSelectorParser)", () => {
  const valid: [string, Requirement[]][] = [
    ["", []],
    ["\rx", [req("x", "exists")]],
    [
      "this-is-a-dns.domain.com/key-with-dash",
      [req("this-is-a-dns.domain.com/key-with-dash", "exists")],
    ],
    [
      "this-is-another-dns.domain.com/key-with-dash in (so,what)",
      [req("this-is-another-dns.domain.com/key-with-dash", "in", ["so", "what"])],
    ],
    [
      "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
      [req("0.1.2.domain/99", "notin", ["10.10.100.1", "tick.tack.clock"])],
    ],
    ["foo  in\t (abc)", [req("foo", "in", ["abc"])]],
    ["x notin\n (abc)", [req("x", "notin", ["abc"])]],
    ["x  notin\t\t\t(abc,def)", [req("x", "notin", ["abc", "def"])]],
    ["x in (abc,def)", [req("x", "in", ["abc", "def"])]],
    ["x in (abc,)", [req("x", "in", ["", "abc"])]],
    ["x in ()", [req("x", "in", [""])]],
    [
      "x notin (abc,,def),bar,z in (),w",
      [
        req("bar", "exists"),
        req("w", "exists"),
        req("x", "notin", ["", "abc", "def"]),
        req("z", "in", [""]),
      ],
    ],
    ["x,y in (a)", [req("x", "exists"), req("y", "in", ["a"])]],
    ["x=a", [req("x", "=", ["a"])]],
    ["x>1", [req("x", "gt", ["1"])]],
    ["x<7", [req("x", "lt", ["7"])]],
    ["x=a,y!=b", [req("x", "=", ["a"]), req("y", "!=", ["b"])]],
    [
      "x=a,y!=b,z in (h,i,j)",
      [req("x", "=", ["a"]), req("y", "!=", ["b"]), req("z", "in", ["h", "i", "j"])],
    ],
    ["x notin ( )", [req("x", "notin", [""])]],
    ["x notin (, a)", [req("x", "notin", ["", "a"])]],
    ["a ", [req("a", "exists")]],
    ["a in (x,y,notin, z,in)", [req("a", "in", ["in", "notin", "x", "y", "z"])]],
    ["x==a", [req("x", "==", ["a"])]],
    ["x in (b,a,b)", [req("x", "in", ["a", "b"])]],
    ["b=1,a=2,b!=3", [req("a", "=", ["2"]), req("b", "=", ["1"]), req("b", "!=", ["3"])]],
  ];
  for (const [input, want] of valid) {
    it(`parses ${JSON.stringify(input)}`, () => {
      assert.deepEqual(parseRequirements(input), want);
    });
  }
  const invalid = [
    "x=a||y=b",
    "x,,y",
    ",x,y",
    "x nott in (y)",
    "a in (xyz),",
    "a in (xyz)b notin ()",
    "a in (xyz abc)",
    "a notin(",
    "a (",
    "(",
    "x>-1",
    "x>99999999999999999999",
    "a/b/c",
    "Ab$",
    "x=" + "a".repeat(64),
    "x" + "y".repeat(63),
  ];
  for (const input of invalid) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseRequirements(input), LabelSelectorError);
    });
  }
});

describe("error messages", () => {
  const cases: [string, string][] = [
    ["x=a||y=b", 'unable to parse requirement: values[0][x]: Invalid value: "a||y": '],
    ["(", "found '(', expected: !, identifier, or 'end of string'"],
    ["x,,y", "found ',', expected: identifier after ','"],
    ["a in (xyz),", "found '', expected: identifier after ','"],
    ["a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'"],
    [
      "x nott in (y)",
      "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt",
    ],
    ["a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier"],
    ["a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')'"],
    ["a in x", "unable to parse requirement: found 'x' expected: '('"],
    ["!=a", "found '!=', expected: !, identifier, or 'end of string'"],
    ["!!a", "unable to parse requirement: found '!', expected: identifier"],
    ["x=(", "unable to parse requirement: found '(', expected: identifier"],
    [
      "x<a",
      "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer",
    ],
    [
      "key$=a",
      "unable to parse requirement: <nil>: Invalid value: \"key$\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ],
    [
      "Example.com/a",
      "unable to parse requirement: <nil>: Invalid value: \"Example.com/a\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ],
    [
      "x=-a",
      "unable to parse requirement: values[0][x]: Invalid value: \"-a\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ],
    ["x=é", 'unable to parse requirement: values[0][x]: Invalid value: "é": a valid label'],
    [
      "/a",
      'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty',
    ],
  ];
  for (const [input, prefix] of cases) {
    it(JSON.stringify(input), () => {
      assert.throws(
        () => parseRequirements(input),
        (err: unknown) => {
          assert.ok(err instanceof LabelSelectorError);
          assert.ok(
            err.message.startsWith(prefix),
            `message ${JSON.stringify(err.message)} should start with ${JSON.stringify(prefix)}`,
          );
          return true;
        },
      );
    });
  }
  it("a NUL ends the input, as Go's byte lexer reads it", () => {
    assert.deepEqual(parseRequirements("\0x=y"), []);
    assert.deepEqual(parseRequirements("a=b\0"), [req("a", "=", ["b"])]);
  });
});

describe("newRequirement (TestRequirementConstructor)", () => {
  const ok: [string, SelectorOperator, string[]][] = [
    ["x3", "in", ["foo"]],
    ["x4", "notin", ["foo"]],
    ["x6", "exists", []],
    ["x7", "!", []],
    ["x9", "in", ["bar"]],
    ["x11", "gt", ["1"]],
    ["x12", "lt", ["6"]],
  ];
  for (const [key, op, values] of ok) {
    it(`accepts ${key} ${op} ${JSON.stringify(values)}`, () => {
      assert.deepEqual(newRequirement(key, op, values), { key, operator: op, values });
    });
  }
  const bad: [string, SelectorOperator, string[], string][] = [
    [
      "x1",
      "in",
      [],
      "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty",
    ],
    ["x2", "notin", [], "values: Invalid value: []: for 'in', 'notin'"],
    ["x5", "=", ["bar", "foo"], 'values: Invalid value: ["bar","foo"]: exact-match compatibility'],
    ["x8", "exists", ["foo"], 'values: Invalid value: ["foo"]: values set must be empty'],
    ["x13", "gt", [], "values: Invalid value: []: for 'Gt', 'Lt' operators, exactly one value"],
    [
      "x14",
      "gt",
      ["bar"],
      "values[0]: Invalid value: \"bar\": for 'Gt', 'Lt' operators, the value must be an integer",
    ],
    ["x15", "lt", ["bar"], 'values[0]: Invalid value: "bar"'],
    ["a".repeat(254), "exists", [], 'key: Invalid value: "aaaa'],
    ["x16", "=", ["a".repeat(254)], 'values[0][x16]: Invalid value: "aaa'],
    ["x17", "=", ["a b"], 'values[0][x17]: Invalid value: "a b"'],
    [
      "x18",
      "unsupportedOp" as SelectorOperator,
      [],
      'operator: Unsupported value: "unsupportedOp": supported values: "in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"',
    ],
  ];
  for (const [key, op, values, prefix] of bad) {
    it(`rejects ${key.slice(0, 8)} ${op} ${JSON.stringify(values).slice(0, 20)}`, () => {
      assert.throws(
        () => newRequirement(key, op, values),
        (err: unknown) =>
          err instanceof LabelSelectorError && err.message.startsWith(prefix) ? true : false,
      );
    });
  }
  it("aggregates several errors in brackets", () => {
    assert.throws(
      () => newRequirement("bad key", "=", ["a b"]),
      (err: unknown) =>
        err instanceof Error &&
        err.message.startsWith('[key: Invalid value: "bad key": ') &&
        err.message.includes(', values[0][bad key]: Invalid value: "a b": ') &&
        err.message.endsWith("]"),
    );
  });
});

describe("toString (TestToString)", () => {
  const cases: [Requirement[], string][] = [
    [
      [req("x", "in", ["abc", "def"]), req("y", "notin", ["jkl"]), req("z", "exists")],
      "x in (abc,def),y notin (jkl),z",
    ],
    [
      [req("x", "notin", ["abc", "def"]), req("y", "!=", ["jkl"]), req("z", "!")],
      "x notin (abc,def),y!=jkl,!z",
    ],
    [
      [req("x", "notin", ["abc"]), req("y", "in", ["jkl", "mno"]), req("z", "notin", [""])],
      "x notin (abc),y in (jkl,mno),z notin ()",
    ],
    [
      [req("x", "=", ["abc"]), req("y", "==", ["jkl"]), req("z", "!=", ["a"]), req("z", "exists")],
      "x=abc,y==jkl,z!=a,z",
    ],
    [[req("x", "gt", ["2"]), req("y", "lt", ["8"]), req("z", "exists")], "x>2,y<8,z"],
  ];
  cases.forEach(([reqs, want]) => {
    it(want, () => {
      assert.equal(new LabelSelector(reqs).toString(), want);
    });
  });
  it("sorts set values on output without mutating them", () => {
    const r = req("environment", "in", ["prod", "dev"]);
    assert.equal(requirementToString(r), "environment in (dev,prod)");
    assert.deepEqual(r.values, ["prod", "dev"]);
  });
});

describe("toLabelSelectorJson", () => {
  const cases: [string, unknown][] = [
    ["", null],
    ["a=b", { matchLabels: { a: "b" } }],
    ["b==2,a=1", { matchLabels: { a: "1", b: "2" } }],
    ["a!=b", { matchExpressions: [{ key: "a", operator: "NotIn", values: ["b"] }] }],
    [
      "x in (b,a),!y,z,w notin (c)",
      {
        matchExpressions: [
          { key: "w", operator: "NotIn", values: ["c"] },
          { key: "x", operator: "In", values: ["a", "b"] },
          { key: "y", operator: "DoesNotExist" },
          { key: "z", operator: "Exists" },
        ],
      },
    ],
    [
      "app=web,tier in (fe)",
      {
        matchLabels: { app: "web" },
        matchExpressions: [{ key: "tier", operator: "In", values: ["fe"] }],
      },
    ],
    ["x>1", { matchExpressions: [{ key: "x", operator: "Gt", values: ["1"] }] }],
    ["x<1", { matchExpressions: [{ key: "x", operator: "Lt", values: ["1"] }] }],
  ];
  for (const [input, want] of cases) {
    it(JSON.stringify(input), () => {
      assert.deepEqual(toLabelSelectorJson(parseRequirements(input)), want);
    });
  }
  it("serialises keys in Go's order", () => {
    assert.equal(
      JSON.stringify(toLabelSelectorJson(parseRequirements("b=1,a=2,c in (x)"))),
      '{"matchLabels":{"a":"2","b":"1"},"matchExpressions":[{"key":"c","operator":"In","values":["x"]}]}',
    );
  });
});
