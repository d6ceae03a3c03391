/**
 * @module providers/prometheus/discovery.test
 * selectorForName: when a seriesQuery can be narrowed to one metric name, and when discovery
 * must fall back to the series listing.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { selectorForName } from "./discovery.ts";

describe("selectorForName", () => {
  const cases: [string, string, string | undefined][] = [
    // Braces only: the name is added as one more matcher.
    [
      '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}',
      "container_cpu",
      '{__name__=~"^container_.*",container!="POD",namespace!="",pod!="",__name__="container_cpu"}',
    ],
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
