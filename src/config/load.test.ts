import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, MAX_CONFIG_BYTES, parseConfig, readConfigText } from "./load.ts";
import { ConfigError, formatIssue } from "./errors.ts";
import { checkTemplate } from "../providers/prometheus/rules.ts";

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));

/** The ConfigError message (all lines) for a text that must not load. */
function errorOf(text: string, options = {}): string {
  try {
    parseConfig(text, "adapter.yaml", options);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.message.split("\n").length, e.issues.length);
    return e.message;
  }
  assert.fail("expected a ConfigError");
}

test("loads the documented rule shapes", async () => {
  const cfg = await loadConfig(fixture("walkthrough.yaml"));
  const [first, second] = cfg.rules ?? [];
  assert.equal(second?.resources?.template, "kube_<<.Group>>_<<.Resource>>");
  assert.deepEqual(first, {
    seriesQuery: '{__name__=~"^http_requests_.*",kubernetes_namespace!="",kubernetes_pod_name!=""}',
    seriesFilters: [{ isNot: "^http_requests_.*_bucket$" }],
    resources: {
      overrides: {
        kubernetes_namespace: { resource: "namespace" },
        kubernetes_pod_name: { resource: "pod" },
      },
    },
    name: { matches: "^(.*)_total", as: "${1}_per_second" },
    metricsQuery: "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)",
  });
  assert.equal(cfg.externalRules?.[0]?.resources?.namespaced, false);
  const rr = cfg.resourceRules;
  assert.equal(rr?.window, "5m");
  assert.equal(cfg.resourceRules?.cpu?.containerLabel, "container");
});

test("accepts what yaml.v2 accepts: plain numbers as text, 1.1 booleans, merges, empty values", async () => {
  const cfg = await loadConfig(fixture("yaml-v2-quirks.yaml"));
  assert.deepEqual(cfg.rules?.[0], {
    seriesQuery: "up",
    seriesFilters: undefined,
    name: { matches: "^up$", as: "404" },
    resources: { template: "<<.Resource>>" },
    metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
  });
  assert.equal(cfg.externalRules?.[0]?.resources?.namespaced, false);
  assert.deepEqual(cfg.resourceRules, {
    cpu: { containerQuery: "a", nodeQuery: "b", containerLabel: "container" },
    memory: { containerQuery: "c", nodeQuery: "b", containerLabel: "container" },
    window: "0",
  });
});

test("an empty file is an empty config (no APIs installed)", () => {
  assert.deepEqual(parseConfig("", "adapter.yaml"), {});
  assert.deepEqual(parseConfig("# nothing\n", "adapter.yaml"), {});
});

test("unknown keys: each one, with a suggestion or the allowed keys", () => {
  const text = [
    "rules:",
    "  - seriesQuery: up",
    "    seriesQeury: x",
    "    metricsQuery: q",
    "    nmae: {matches: x}",
    "    flurb: 1",
    "rule: []",
  ].join("\n");
  assert.equal(
    errorOf(text),
    [
      'adapter.yaml:3:5: unknown key "seriesQeury" in rules[0]; did you mean "seriesQuery"?',
      'adapter.yaml:5:5: unknown key "nmae" in rules[0]; did you mean "name"?',
      'adapter.yaml:6:5: unknown key "flurb" in rules[0]; allowed keys are "seriesQuery", "seriesFilters", "resources", "name", "metricsQuery", "k8sCustomMetrics"',
      'adapter.yaml:7:1: unknown key "rule" at the top level; did you mean "rules"?',
    ].join("\n"),
  );
});

test("unknown keys deep inside, and a key that YAML 1.1 would read as a boolean", () => {
  const text = [
    "resourceRules:",
    "  cpu: {containerQuery: a, nodeQuery: b, resources: {overrides: {pod: {resource: pod, grop: x}}}}",
    "  memory: {containerQuery: a, nodeQuery: b, y: 1}",
  ].join("\n");
  assert.equal(
    errorOf(text),
    [
      'adapter.yaml:2:87: unknown key "grop" in resourceRules.cpu.resources.overrides.pod; did you mean "group"?',
      'adapter.yaml:3:45: unknown key "y" in resourceRules.memory; allowed keys are "containerQuery", "nodeQuery", "resources", "containerLabel"',
    ].join("\n"),
  );
});

test("duplicate keys, at any depth", () => {
  const text = [
    "rules:",
    "  - seriesQuery: up",
    "    metricsQuery: x",
    "    metricsQuery: y",
    "rules: []",
  ].join("\n");
  assert.equal(
    errorOf(text),
    [
      'adapter.yaml:4:5: duplicate key "metricsQuery" in rules[0]; keep only one of them (keys must be unique)',
      'adapter.yaml:5:1: duplicate key "rules" at the top level; keep only one of them (keys must be unique)',
    ].join("\n"),
  );
});

test("wrong types and missing keys", () => {
  const text = [
    "rules:",
    '  - seriesQuery: {__name__=~"x"}',
    "    metricsQuery: yes # yaml.v2 reads it as text into a string field",
    "    seriesFilters: {is: x}",
    "    resources:",
    '      namespaced: "true"',
    "      overrides:",
    "        pod: {}",
    "  - metricsQuery:",
    "externalRules: foo",
    "resourceRules:",
    "  cpu: {containerQuery: a, nodeQuery: b}",
  ].join("\n");
  assert.equal(
    errorOf(text),
    [
      `adapter.yaml:2:18: rules[0].seriesQuery must be a string, not a mapping; quote the value: unquoted {…} is a YAML mapping, e.g. seriesQuery: '{__name__=~"x"}'`,
      "adapter.yaml:4:20: rules[0].seriesFilters must be a list, not a mapping; write a list, one item per line starting with '- '",
      'adapter.yaml:6:19: rules[0].resources.namespaced must be true or false, not the string "true"; write true or false, unquoted',
      'adapter.yaml:8:14: rules[0].resources.overrides.pod is missing "resource"; add resource: pod',
      `adapter.yaml:9:5: warning: rules[1].seriesQuery is empty, so the rule lists no metric (prometheus-adapter lists none at all then); set it, e.g. seriesQuery: '{__name__=~"^http_requests_.*",namespace!=""}'`,
      "adapter.yaml:9:18: warning: rules[1].metricsQuery is empty, so the rule's metrics are listed but every request for them fails, as in prometheus-adapter; set it, e.g. metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)'",
      `adapter.yaml:10:16: externalRules must be a list, not the string "foo"; write a list, one item per line starting with '- '`,
      'adapter.yaml:12:3: warning: resourceRules has no "memory", so metrics.k8s.io has no pod or node usage (both cpu and memory are needed); add memory: {containerQuery: …, nodeQuery: …, resources: …, containerLabel: container}',
    ].join("\n"),
  );
});

test("semantic errors: filters, regexes, inferred as, empty override resource, window", () => {
  const text = [
    "rules:",
    "  - seriesQuery: up",
    "    metricsQuery: x",
    "    seriesFilters:",
    "      - is: a",
    "        isNot: b",
    "      - {}",
    "      - isNot: (?!x)",
    "    name:",
    "      matches: ^(a)_(b)$",
    "    resources:",
    '      overrides: {ns: {resource: ""}}',
    "externalRules:",
    '  - seriesQuery: ""',
    "    metricsQuery: x",
    '    name: {matches: "(?P<x>a)(", as: "$1"}',
    "resourceRules:",
    "  cpu: {containerQuery: a, nodeQuery: b}",
    "  memory: {containerQuery: a, nodeQuery: b}",
    "  window: 5x",
  ].join("\n");
  assert.equal(
    errorOf(text),
    [
      'adapter.yaml:5:9: rules[0].seriesFilters[0] has both "is" and "isNot"; a filter takes exactly one, so split it into two filters',
      'adapter.yaml:7:9: rules[0].seriesFilters[1] has neither "is" nor "isNot"; give it one (e.g. isNot: ".*_bucket$") or remove it',
      'adapter.yaml:8:16: rules[0].seriesFilters[2].isNot "(?!x)" is not a valid RE2 regular expression: lookahead (?= or (?! is not supported by RE2; rewrite without lookaround; to exclude names use seriesFilters with isNot',
      'adapter.yaml:10:16: rules[0].name.matches "^(a)_(b)$" has 2 capture groups, so the metric name cannot be inferred; add name.as, e.g. as: "${1}_${2}"',
      "adapter.yaml:12:34: rules[0].resources.overrides.ns has an empty resource; name the Kubernetes resource this label holds, e.g. resource: pod",
      `adapter.yaml:14:18: warning: externalRules[0].seriesQuery is empty, so the rule lists no metric (prometheus-adapter lists none at all then); set it, e.g. seriesQuery: '{__name__=~"^http_requests_.*",namespace!=""}'`,
      'adapter.yaml:16:21: externalRules[0].name.matches "(?P<x>a)(" is not a valid RE2 regular expression: missing closing ); balance the parentheses',
      'adapter.yaml:20:11: resourceRules.window "5x" is not a Prometheus duration (not a valid duration string: "5x"); write it like 5m, 1m30s or 0',
    ].join("\n"),
  );
});

test("shape errors and semantic errors are reported together", () => {
  const text = [
    "rules:",
    "  - seriesQuery: up",
    "    metricsQuery: x",
    "    name: {matches: (a)(b)}",
    "  - seriesQuery: up",
    "    metricsQuery: x",
    "    extra: 1",
  ].join("\n");
  assert.equal(
    errorOf(text),
    [
      'adapter.yaml:4:21: rules[0].name.matches "(a)(b)" has 2 capture groups, so the metric name cannot be inferred; add name.as, e.g. as: "${1}_${2}"',
      'adapter.yaml:7:5: unknown key "extra" in rules[1]; allowed keys are "seriesQuery", "seriesFilters", "resources", "name", "metricsQuery", "k8sCustomMetrics"',
    ].join("\n"),
  );
});

test("templates are checked when a template compiler is given", () => {
  const compileTemplate = (text: string) => {
    if (text.includes("<<") && !text.includes(">>")) throw new Error("unclosed action");
    return (data: { Group: string; Resource: string }) =>
      text.replace("<<.Group>>", data.Group).replace("<<.Resource>>", data.Resource);
  };
  const text = [
    "rules:",
    "  - seriesQuery: up",
    "    metricsQuery: sum(<<.Series",
    "    resources: {template: kube_<<.Group>>}",
  ].join("\n");
  assert.equal(
    errorOf(text, { compileTemplate }),
    [
      "adapter.yaml:3:19: rules[0].metricsQuery is not a valid Go template: unclosed action; fix the template (delimiters are << and >>)",
      'adapter.yaml:4:27: rules[0].resources.template "kube_<<.Group>>" cannot map labels: must include at least `{{.Resource}}` in the label template; include <<.Resource>> (and optionally <<.Group>>), e.g. kube_<<.Group>>_<<.Resource>>',
    ].join("\n"),
  );
  assert.doesNotThrow(() => parseConfig(text, "adapter.yaml"), "skipped without a compiler");
});

test("YAML syntax errors and a non-mapping document", () => {
  assert.equal(
    errorOf('rules:\n  - seriesQuery: "up\n'),
    'adapter.yaml:3:1: YAML syntax error: Missing closing "quote; fix the YAML at this position',
  );
  assert.equal(
    errorOf("- a\n- b\n"),
    "adapter.yaml:1:1: the config must be a mapping, not a list; write rules:, externalRules: and/or resourceRules: at the top level",
  );
});

test("an unreadable file is a ConfigError naming the path", async () => {
  await assert.rejects(loadConfig("/nonexistent/adapter.yaml"), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(
      e.message,
      "/nonexistent/adapter.yaml: cannot read the config file (ENOENT); check the --config path",
    );
    return true;
  });
});

test("problems upstream meets only at query time are warnings: the config loads", () => {
  const text = [
    "rules:",
    "  - seriesQuery: '{__name__=~\"^DCGM_.*\"}'",
    "    name: {matches: ^DCGM_(.*)$, as: gpu_$1}",
    "  - seriesQuery: 'http_requests_total'",
    '    metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>,env="<<.Env>>"}) by (<<.GroupBy>>)',
    "resourceRules:",
    "  cpu: {containerQuery: 'sum(x{<<.LabelMatchers>>}) by (<<.GroupBy>>)', nodeQuery: ''}",
  ].join("\n");
  const warnings: string[] = [];
  const cfg = parseConfig(text, "adapter.yaml", {
    compileTemplate: checkTemplate,
    onWarning: (w) => warnings.push(formatIssue(w)),
  });
  assert.equal(cfg.rules?.[0]?.metricsQuery, "");
  assert.equal(cfg.resourceRules?.memory, undefined);
  assert.deepEqual(warnings, [
    "adapter.yaml:2:5: warning: rules[0].metricsQuery is empty, so the rule's metrics are listed but every request for them fails, as in prometheus-adapter; set it, e.g. metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)'",
    "adapter.yaml:5:19: warning: rules[1].metricsQuery at 1:43: can't evaluate field Env: the data has only .Series, .LabelMatchers, .LabelValuesByName, .GroupBy, .GroupBySlice, so the rule's metrics are listed but every request for them fails, as in prometheus-adapter; use only .Series, .LabelMatchers, .LabelValuesByName, .GroupBy, .GroupBySlice",
    'adapter.yaml:7:3: warning: resourceRules has no "memory", so metrics.k8s.io has no pod or node usage (both cpu and memory are needed); add memory: {containerQuery: …, nodeQuery: …, resources: …, containerLabel: container}',
    "adapter.yaml:7:84: warning: resourceRules.cpu.nodeQuery is empty, so metrics.k8s.io has no pod or node usage (both cpu and memory are needed); set it, e.g. nodeQuery: 'sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>,id=\"/\"}[5m])) by (<<.GroupBy>>)'",
  ]);
  // --strict-config: the same warnings refuse the file.
  const strict = errorOf(text, { compileTemplate: checkTemplate, strict: true });
  assert.equal(strict.split("\n").length, 4);
  assert.match(strict, /^adapter\.yaml:2:5: warning: rules\[0\]\.metricsQuery is empty/);
});

test("a config file over 4 MiB is refused before it is read; one at the limit is read", async () => {
  const dir = await mkdtemp(join(tmpdir(), "kcm-config-size-"));
  try {
    const file = join(dir, "big.yaml");
    await writeFile(file, "rules: []\n");
    await truncate(file, MAX_CONFIG_BYTES + 1);
    await assert.rejects(
      readConfigText(file),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.issues.length === 1 &&
        /^the config file is 4\.1 MiB, over the 4 MiB accepted/.test(e.issues[0]?.message ?? ""),
    );
    await truncate(file, MAX_CONFIG_BYTES);
    assert.equal((await readConfigText(file)).length, MAX_CONFIG_BYTES);
    await assert.rejects(
      readConfigText(dir),
      (e: unknown) =>
        e instanceof ConfigError && /cannot read the config file \(EISDIR\)/.test(e.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a UTF-16 file, an empty --config and a long non-mapping get one short line each", async () => {
  const dir = await mkdtemp(join(tmpdir(), "kcm-config-text-"));
  try {
    const utf16 = join(dir, "utf16.yaml");
    await writeFile(utf16, Buffer.from("\ufeffrules: []\n", "utf16le"));
    await assert.rejects(
      readConfigText(utf16),
      (e: unknown) =>
        e instanceof ConfigError && /is UTF-16 text; save it as UTF-8/.test(e.message),
    );
    await assert.rejects(
      readConfigText(""),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message === "--config: the flag is empty; give the config file's path",
    );
    assert.throws(
      () => parseConfig("x".repeat(5000), "long.yaml"),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message.length < 300 &&
        e.message.includes(`not the string "${"x".repeat(60)}…"`),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
