/**
 * @module providers/prometheus/discovery.test
 * selectorForName: when a seriesQuery can be narrowed to one metric name, and when discovery
 * must fall back to the series listing; the matcher split it relies on; the request limiter.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { limiter, selectorForName, splitMatchers } from "./discovery.ts";

describe("selectorForName", () => {
  const cases: [string, string, string | undefined][] = [
    // Braces only: the name is added as one more matcher, and the name matchers it satisfies
    // (it was listed by this selector) are dropped.
    [
      '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}',
      "container_cpu",
      '{container!="POD",namespace!="",pod!="",__name__="container_cpu"}',
    ],
    ['{namespace!="",__name__!~"^container_.*"}', "up", '{namespace!="",__name__="up"}'],
    ['{__name__=~"up|down"}', "up", '{__name__="up"}'],
    // Every string form of PromQL is one matcher, whatever it quotes.
    [
      '{ a = "x,\\"y" , b!~\'p\\\'q,\' ,c=~`r\\,s`, __name__=~"u.*" }',
      "up",
      '{a="x,\\"y",b!~\'p\\\'q,\',c=~`r\\,s`,__name__="up"}',
    ],
    // A list that does not parse is kept whole (Prometheus will say what is wrong with it).
    ['{__name__=~"u.*" job="x"}', "up", '{__name__=~"u.*" job="x",__name__="up"}'],
    ['{namespace!=""}', "up", '{namespace!="",__name__="up"}'],
    ['{namespace!="",}', "up", '{namespace!="",__name__="up"}'],
    ["{}", "up", '{__name__="up"}'],
    ['  { job="x" }  ', "up", '{job="x",__name__="up"}'],
    // A metric name: the query already names one series name, or none of ours.
    [
      'http_requests_total{namespace!=""}',
      "http_requests_total",
      'http_requests_total{namespace!=""}',
    ],
    ['http_requests_total{namespace!=""}', "other", undefined],
    ["up", "up", "up"],
    // Names that need quoting are Go-quoted.
    ["{}", 'we"ird', '{__name__="we\\"ird"}'],
    // Not a plain selector, or braces inside a string: fall back to the series listing.
    ['{a="}"}', "up", undefined],
    ['{a="{"}', "up", undefined],
    ["sum(up)", "up", undefined],
    ["", "up", undefined],
    ["up or down", "up", undefined],
  ];
  for (const [query, name, expected] of cases) {
    test(`${query} + ${name}`, () => {
      assert.equal(selectorForName(query, name), expected);
    });
  }
});

describe("splitMatchers", () => {
  test("names and texts, in order", () => {
    assert.deepEqual(splitMatchers(' a="1", __name__ =~ "x" ,b!=`}`'), [
      { label: "a", text: 'a="1"' },
      { label: "__name__", text: '__name__=~"x"' },
      { label: "b", text: "b!=`}`" },
    ]);
    assert.deepEqual(splitMatchers(""), []);
  });
  test("anything off the grammar is undefined", () => {
    for (const bad of ['a="1",,b="2"', 'a="1" b="2"', 'a=="1"', 'a="1', "a=1", '"a"="1"', "a"])
      assert.equal(splitMatchers(bad), undefined, bad);
  });
});

describe("limiter", () => {
  test("never more than the limit in flight, all run, in order", async () => {
    const limit = limiter(3);
    let active = 0;
    let peak = 0;
    const started: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limit(async () => {
          started.push(i);
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, i % 4));
          active--;
          if (i === 7) throw new Error("seven");
          return i;
        }).catch((e: unknown) => (e as Error).message),
      ),
    );
    assert.equal(peak, 3);
    assert.deepEqual(started, [...Array(20).keys()]);
    assert.deepEqual(
      results,
      Array.from({ length: 20 }, (_, i) => (i === 7 ? "seven" : i)),
    );
  });
});
