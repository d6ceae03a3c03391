import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exitCodeFor } from "./findings.ts";
import { formatValidateJson, formatValidateText } from "./format-validate.ts";
import { runValidate, type ValidateReport } from "./validate.ts";

const dir = mkdtempSync(join(tmpdir(), "kcm-validate-"));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
const base = { maxAgeMs: 600_000, maxQueriesPerRule: 5 };

test("a clean config: no findings, exit 0", async () => {
  const p = file(
    "clean.yaml",
    `rules:
  - seriesQuery: '{__name__=~"^http_.*",namespace!=""}'
    resources: { template: "<<.Resource>>" }
    metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)"
`,
  );
  const r = await runValidate({ ...base, configPath: p });
  assert.deepEqual(r.findings, []);
  assert.equal(exitCodeFor(r.findings, true), 0);
  assert.equal(formatValidateText(r), `${p}: no problems found (offline)\n`);
});

test("loader errors and warnings and static warnings, together and in file order", async () => {
  const p = file(
    "mixed.yaml",
    `rules:
  - seriesQuery: '{__name__="a_total"}'
    name: { matches: "^(a)_(.*)$" }
    metricsQuery: "sum(rate(<<.Series>>{<<.LabelMatchers>>}[45s])) by (<<.GroupBy>>)"
  - seriesQuery: '{__name__="b_total"}'
`,
  );
  const r = await runValidate({ ...base, configPath: p });
  assert.deepEqual(
    r.findings.map((f) => [f.line, f.col, f.severity, f.check]),
    [
      [3, 22, "error", "config"],
      [4, 60, "warning", "rate-window"],
      [5, 5, "warning", "config"],
    ],
  );
  assert.equal(exitCodeFor(r.findings, false), 2);
  const text = formatValidateText(r);
  assert.match(text, new RegExp(`^${p}:3:22: error: rules\\[0\\]\\.name\\.matches`, "m"));
  assert.match(text, /1 error, 2 warnings \(offline\)\n$/);
});

test("--scrape-interval replaces the assumed 1m; an unreadable file is one error", async () => {
  const p = file(
    "window.yaml",
    `rules:
  - seriesQuery: '{__name__="a_total"}'
    metricsQuery: "sum(rate(<<.Series>>{<<.LabelMatchers>>}[45s])) by (<<.GroupBy>>)"
`,
  );
  assert.equal((await runValidate({ ...base, configPath: p })).counts.warnings, 1);
  assert.equal(
    (await runValidate({ ...base, configPath: p, scrapeIntervalMs: 15_000 })).counts.warnings,
    0,
  );
  const missing = await runValidate({ ...base, configPath: join(dir, "nope.yaml") });
  assert.equal(missing.findings.length, 1);
  assert.match(missing.findings[0]?.message ?? "", /cannot read the config file \(ENOENT\)/);
});

test("online checks wait for a config that loads; JSON carries the report and exit code", async () => {
  const p = file("bad.yaml", "rules: [ {seriesQuery: 1 ");
  const r = await runValidate({
    ...base,
    configPath: p,
    prometheus: { url: "http://127.0.0.1:9" },
  });
  assert.equal(r.online, false);
  assert.match(r.onlineSkipped ?? "", /the config has errors/);
  const json = JSON.parse(formatValidateJson(r, 2)) as ValidateReport & { exitCode: number };
  assert.equal(json.exitCode, 2);
  assert.equal(json.counts.errors, json.findings.length);
});
