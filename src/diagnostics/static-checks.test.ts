import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigDocument } from "./config-document.ts";
import { duplicateNames, shortRateWindows } from "./static-checks.ts";

const RULE = (name: string, as: string, window = "5m") => `  - seriesQuery: '{__name__="${name}"}'
    name: { matches: "^(.*)_total$", as: "${as}" }
    metricsQuery: "sum(rate(<<.Series>>{<<.LabelMatchers>>}[${window}])) by (<<.GroupBy>>)"
`;

test("rules with the same plain-text name.as, and repeated rules, are reported at the later one", () => {
  const text = `rules:\n${RULE("a_total", "hits")}${RULE("b_total", "hits")}${RULE("c_total", "${1}")}${RULE("c_total", "${1}")}`;
  const doc = new ConfigDocument(text, "c.yaml");
  const found = duplicateNames(doc, "rules");
  assert.deepEqual(
    found.map((f) => [f.line, f.col, f.check, f.severity]),
    [
      [6, 42, "duplicate-metric", "warning"],
      [11, 5, "duplicate-metric", "warning"],
    ],
  );
  assert.match(
    found[0]?.message ?? "",
    /rules\[1\]\.name\.as "hits" is also the metric name of rules\[0\]/,
  );
  assert.match(found[1]?.message ?? "", /rules\[3\] repeats rules\[2\]/);
  // External rules only clash among themselves.
  assert.deepEqual(duplicateNames(doc, "externalRules"), []);
});

test("rate windows under two scrape intervals point at the window itself", () => {
  const text = `rules:\n${RULE("a_total", "x", "30s")}${RULE("b_total", "y", "2m")}`;
  const doc = new ConfigDocument(text, "c.yaml");
  const found = shortRateWindows(doc, () => ({ ms: 60_000, source: "assumed" }));
  assert.equal(found.length, 1);
  assert.equal(found[0]?.line, 4);
  assert.equal(found[0].col, text.split("\n")[3]!.indexOf("[30s]") + 1);
  assert.match(
    found[0].message,
    /rate\(…\[30s\]\) covers less than two scrape intervals \(1m: assumed\).*at least \[2m\]/,
  );
  assert.deepEqual(
    shortRateWindows(doc, () => ({ ms: 10_000, source: "job a" })),
    [],
  );
  assert.deepEqual(
    shortRateWindows(doc, () => undefined),
    [],
  );
});

test("resourceRules queries are checked too; malformed rules are skipped, not fatal", () => {
  const text = `rules:
  - seriesQuerry: nope
resourceRules:
  cpu:
    containerQuery: "sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>}[15s])) by (<<.GroupBy>>)"
    nodeQuery: "sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)"
`;
  const doc = new ConfigDocument(text, "c.yaml");
  assert.deepEqual(doc.rules("rules"), [undefined]);
  const found = shortRateWindows(doc, () => ({ ms: 15_000, source: "assumed" }));
  assert.equal(found.length, 1);
  assert.equal(found[0]?.line, 5);
  assert.match(found[0].message, /^resourceRules\.cpu\.containerQuery: rate\(…\[15s\]\)/);
});
