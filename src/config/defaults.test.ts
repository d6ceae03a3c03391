import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultConfig, defaultConfigYaml } from "./defaults.ts";
import { parseConfig } from "./load.ts";

test("the default config round-trips through parseConfig", () => {
  assert.deepEqual(parseConfig(defaultConfigYaml(), "default.yaml"), defaultConfig());
  const custom = { rateInterval: "1m30s", labelPrefix: "kube_" };
  assert.deepEqual(parseConfig(defaultConfigYaml(custom), "default.yaml"), defaultConfig(custom));
});

test("config-gen defaults: 5m window, no label prefix (reference §1.6)", () => {
  const { rules = [], resourceRules } = defaultConfig();
  const podOverrides = { namespace: { resource: "namespace" }, pod: { resource: "pod" } };
  const cadvisor = '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}';
  const containerRate =
    'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[5m])) by (<<.GroupBy>>)';
  const app = '{namespace!="",__name__!~"^container_.*"}';
  const appRate = "sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)";
  assert.deepEqual(rules, [
    {
      seriesQuery: cadvisor,
      resources: { overrides: podOverrides },
      name: { matches: "^container_(.*)_seconds_total$" },
      metricsQuery: containerRate,
    },
    {
      seriesQuery: cadvisor,
      seriesFilters: [{ isNot: "^container_.*_seconds_total$" }],
      resources: { overrides: podOverrides },
      name: { matches: "^container_(.*)_total$" },
      metricsQuery: containerRate,
    },
    {
      seriesQuery: cadvisor,
      seriesFilters: [{ isNot: "^container_.*_total$" }],
      resources: { overrides: podOverrides },
      name: { matches: "^container_(.*)$" },
      metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>,container!="POD"}) by (<<.GroupBy>>)',
    },
    {
      seriesQuery: app,
      seriesFilters: [{ isNot: ".*_total$" }],
      resources: { template: "<<.Resource>>" },
      metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
    },
    {
      seriesQuery: app,
      seriesFilters: [{ isNot: ".*_seconds_total" }],
      resources: { template: "<<.Resource>>" },
      name: { matches: "^(.*)_total$" },
      metricsQuery: appRate,
    },
    {
      seriesQuery: app,
      resources: { template: "<<.Resource>>" },
      name: { matches: "^(.*)_seconds_total$" },
      metricsQuery: appRate,
    },
  ]);
  const nodeOverrides = { ...podOverrides, instance: { resource: "node" } };
  assert.deepEqual(resourceRules, {
    cpu: {
      containerQuery:
        "sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)",
      nodeQuery:
        "sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>, id='/'}[5m])) by (<<.GroupBy>>)",
      resources: { overrides: nodeOverrides },
      containerLabel: "container",
    },
    memory: {
      containerQuery:
        "sum(container_memory_working_set_bytes{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
      nodeQuery:
        "sum(container_memory_working_set_bytes{<<.LabelMatchers>>,id='/'}) by (<<.GroupBy>>)",
      resources: { overrides: nodeOverrides },
      containerLabel: "container",
    },
    window: "5m",
  });
});

test("rate interval and label prefix parameters", () => {
  const { rules = [], resourceRules } = defaultConfig({
    rateInterval: 90_000,
    labelPrefix: "kube_",
  });
  const [r0, , , r3, r4] = rules;
  assert.match(r0?.metricsQuery ?? "", /\[1m30s\]/);
  assert.equal(r3?.seriesQuery, '{kube_namespace!="",__name__!~"^container_.*"}');
  assert.deepEqual(r4?.resources, { template: "kube_<<.Resource>>" });
  assert.equal(resourceRules?.window, "1m30s");
  assert.equal(resourceRules.memory?.containerLabel, "kube_container");
});
