/**
 * @module template/template.test
 * The public API: options, config-time checks (syntax, functions, declared fields) with line:col,
 * and how data is read (plain objects as maps, or as a struct when fields are declared).
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  ADAPTER_DELIMITERS,
  QUERY_TEMPLATE_FIELDS,
  RESOURCE_TEMPLATE_FIELDS,
  TemplateError,
  parseTemplate,
} from "./template.ts";

const QUERY = { ...ADAPTER_DELIMITERS, name: "metrics-query", fields: QUERY_TEMPLATE_FIELDS };

describe("parseTemplate options", () => {
  test("Go's default delimiters", () => {
    assert.equal(parseTemplate("{{.a}} <<.a>>").execute({ a: 1 }), "1 <<.a>>");
  });

  test("custom delimiters, trim markers and comments", () => {
    const t = parseTemplate("a <<- /* c */ ->> b <<- .x ->> c", ADAPTER_DELIMITERS);
    assert.equal(t.execute({ x: "X" }), "abXc");
  });

  test("multi-character delimiters of any shape", () => {
    assert.equal(
      parseTemplate("[[[.a]]]", { leftDelim: "[[[", rightDelim: "]]]" }).execute({ a: 2 }),
      "2",
    );
  });

  test("the name appears in messages; default 'template'", () => {
    assert.throws(() => parseTemplate("{{"), {
      message: "template: template:1:3: unclosed action",
    });
    assert.throws(() => parseTemplate("<<", QUERY), {
      message: "template: metrics-query:1:3: unclosed action",
    });
  });

  test("undefined options are accepted", () => {
    assert.equal(
      parseTemplate("{{1}}", { leftDelim: undefined, fields: undefined }).execute(null),
      "1",
    );
  });
});

describe("config-time checks", () => {
  const errors: readonly (readonly [string, string, number, number])[] = [
    [
      "sum(<<.Seriess>>)",
      "can't evaluate field Seriess: the data has only .Series, .LabelMatchers, .LabelValuesByName, .GroupBy, .GroupBySlice",
      1,
      7,
    ],
    [
      "x\n  <<$.Nope>>",
      "can't evaluate field Nope: the data has only .Series, .LabelMatchers, .LabelValuesByName, .GroupBy, .GroupBySlice",
      2,
      5,
    ],
    [
      "<<if .X>><<end>>",
      "can't evaluate field X: the data has only .Series, .LabelMatchers, .LabelValuesByName, .GroupBy, .GroupBySlice",
      1,
      6,
    ],
    [
      "<<range .GroupBySlice>><<else>><<.Y>><<end>>",
      "can't evaluate field Y: the data has only .Series, .LabelMatchers, .LabelValuesByName, .GroupBy, .GroupBySlice",
      1,
      34,
    ],
    [
      '<<printf "%s" (print .Z)>>',
      "can't evaluate field Z: the data has only .Series, .LabelMatchers, .LabelValuesByName, .GroupBy, .GroupBySlice",
      1,
      22,
    ],
    ['<<join .GroupBySlice ",">>', 'function "join" not defined', 1, 3],
    ["sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>)", "bad character U+003E '>'", 1, 44],
    ["<<.Series | html>>", 'function "html" is not supported by k8s-custom-metrics', 1, 13],
    ["<<if .GroupBy>>by<<else>>", "unexpected EOF", 1, 26],
  ];
  for (const [src, detail, line, col] of errors) {
    test(src, () => {
      assert.throws(
        () => parseTemplate(src, QUERY),
        (err: unknown) => {
          assert.ok(err instanceof TemplateError);
          assert.equal(err.phase, "parse");
          assert.equal(err.templateName, "metrics-query");
          assert.equal(err.detail, detail);
          assert.deepEqual([err.line, err.col], [line, col]);
          assert.equal(err.message, `template: metrics-query:${line}:${col}: ${detail}`);
          return true;
        },
      );
    });
  }

  test("fields below dot-changing actions are not checked (dot is not the data there)", () => {
    const t = parseTemplate(
      "<<range .GroupBySlice>><<.Anything>><<end>><<with .Series>><<.X>><<end>>",
      QUERY,
    );
    assert.ok(t);
  });

  test("resource templates know .Group and .Resource", () => {
    const t = parseTemplate("kube_<<.Group>>_<<.Resource>>", {
      ...ADAPTER_DELIMITERS,
      fields: RESOURCE_TEMPLATE_FIELDS,
    });
    assert.equal(t.execute({ Group: "apps", Resource: "deployment" }), "kube_apps_deployment");
    assert.throws(
      () => parseTemplate("<<.Kind>>", { ...ADAPTER_DELIMITERS, fields: RESOURCE_TEMPLATE_FIELDS }),
      {
        detail: "can't evaluate field Kind: the data has only .Group, .Resource",
      },
    );
  });
});

describe("execute", () => {
  test("a realistic metricsQuery with plain-object data", () => {
    const t = parseTemplate(
      "sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)",
      QUERY,
    );
    const out = t.execute({
      Series: "http_requests_total",
      LabelMatchers: 'namespace="default",pod=~"a|b"',
      LabelValuesByName: { namespace: "default", pod: "a|b" },
      GroupBy: "pod",
      GroupBySlice: ["pod"],
    });
    assert.equal(
      out,
      'sum(rate(http_requests_total{namespace="default",pod=~"a|b"}[5m])) by (pod)',
    );
  });

  test("with fields, plain-object data is a struct: unknown fields are errors, not <no value>", () => {
    const t = parseTemplate("<<$x := .>><<$x.Nope>>", {
      ...QUERY,
      typeName: "naming.queryTemplateArgs",
    });
    assert.throws(() => t.execute({ Series: "s" }), {
      message:
        'template: metrics-query:1:14: executing "metrics-query" at <$x.Nope>: can\'t evaluate field Nope in type naming.queryTemplateArgs',
    });
  });

  test("without fields, plain objects are maps", () => {
    assert.equal(parseTemplate("{{.Nope}}").execute({}), "<no value>");
  });

  test("a template can be executed many times", () => {
    const t = parseTemplate("<<.Series>>", QUERY);
    assert.equal(t.execute({ Series: "a" }), "a");
    assert.equal(t.execute({ Series: "b" }), "b");
  });

  test("truthiness follows Go: empty string, 0, false, nil, empty slice and map are false", () => {
    const t = parseTemplate("{{range .}}{{if .}}T{{else}}F{{end}}{{end}}");
    assert.equal(
      t.execute(["", 0, false, null, [], {}, "x", 1, true, [0], { a: 0 }, 0.5]),
      "FFFFFFTTTTTT",
    );
  });
});
