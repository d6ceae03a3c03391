/**
 * @module config/defaults
 * The config prometheus-adapter's `cmd/config-gen` writes (upstream
 * cmd/config-gen/utils/default.go, DefaultConfig(rateInterval, labelPrefix)): three cAdvisor
 * rules, three rules for labelled application series, and resourceRules for `kubectl top`.
 * Counters (`_total`, `_seconds_total`) become rates with the suffix stripped.
 */
import { stringify } from "yaml";
import { formatPromDuration, parsePromDuration } from "./duration.ts";
import type { AdapterConfig, DiscoveryRule, ResourceRule } from "./schema.ts";

export interface DefaultConfigParams {
  /** Rate window: milliseconds, or a Prometheus duration like `5m`. Default 5m (config-gen's). */
  readonly rateInterval?: number | string;
  /** Prefix of the resource labels on application series (config-gen `--label-prefix`). */
  readonly labelPrefix?: string;
}

const CADVISOR_SERIES = '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}';

function podOverrides() {
  return { namespace: { resource: "namespace" }, pod: { resource: "pod" } };
}

/** The default config as data, for the given rate window and label prefix. */
export function defaultConfig(params: DefaultConfigParams = {}): AdapterConfig {
  const rate = params.rateInterval ?? 5 * 60 * 1000;
  const w = formatPromDuration(typeof rate === "string" ? parsePromDuration(rate) : rate);
  const p = params.labelPrefix ?? "";
  const appSeries = `{${p}namespace!="",__name__!~"^container_.*"}`;
  const appResources = { template: `${p}<<.Resource>>` };
  const containerRate = `sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[${w}])) by (<<.GroupBy>>)`;
  const appRate = `sum(rate(<<.Series>>{<<.LabelMatchers>>}[${w}])) by (<<.GroupBy>>)`;

  const rules: DiscoveryRule[] = [
    // container seconds counters: container_cpu_usage_seconds_total → cpu_usage
    {
      seriesQuery: CADVISOR_SERIES,
      resources: { overrides: podOverrides() },
      name: { matches: "^container_(.*)_seconds_total$" },
      metricsQuery: containerRate,
    },
    // other container counters
    {
      seriesQuery: CADVISOR_SERIES,
      seriesFilters: [{ isNot: "^container_.*_seconds_total$" }],
      resources: { overrides: podOverrides() },
      name: { matches: "^container_(.*)_total$" },
      metricsQuery: containerRate,
    },
    // container gauges
    {
      seriesQuery: CADVISOR_SERIES,
      seriesFilters: [{ isNot: "^container_.*_total$" }],
      resources: { overrides: podOverrides() },
      name: { matches: "^container_(.*)$" },
      metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>,container!="POD"}) by (<<.GroupBy>>)',
    },
    // application gauges, named as-is
    {
      seriesQuery: appSeries,
      seriesFilters: [{ isNot: ".*_total$" }],
      resources: appResources,
      metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
    },
    // application counters (not seconds; upstream's filter has no trailing $)
    {
      seriesQuery: appSeries,
      seriesFilters: [{ isNot: ".*_seconds_total" }],
      resources: appResources,
      name: { matches: "^(.*)_total$" },
      metricsQuery: appRate,
    },
    // application seconds counters
    {
      seriesQuery: appSeries,
      resources: appResources,
      name: { matches: "^(.*)_seconds_total$" },
      metricsQuery: appRate,
    },
  ];

  const nodeOverrides = { ...podOverrides(), instance: { resource: "node" } };
  const cpu: ResourceRule = {
    containerQuery: `sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>}[${w}])) by (<<.GroupBy>>)`,
    nodeQuery: `sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>, id='/'}[${w}])) by (<<.GroupBy>>)`,
    resources: { overrides: nodeOverrides },
    containerLabel: `${p}container`,
  };
  const memory: ResourceRule = {
    containerQuery: "sum(container_memory_working_set_bytes{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
    nodeQuery:
      "sum(container_memory_working_set_bytes{<<.LabelMatchers>>,id='/'}) by (<<.GroupBy>>)",
    resources: { overrides: { ...nodeOverrides } },
    containerLabel: `${p}container`,
  };
  return { rules, resourceRules: { cpu, memory, window: w } };
}

/** The default config as YAML text (for deploy/ manifests and `--config` files). */
export function defaultConfigYaml(params: DefaultConfigParams = {}): string {
  const header =
    "# Default config, as prometheus-adapter's cmd/config-gen produces it.\n" +
    "# Counters (_total, _seconds_total) are exposed as rates without the suffix.\n";
  return (
    header +
    stringify(defaultConfig(params), {
      version: "1.1",
      lineWidth: 0,
      aliasDuplicateObjects: false,
    })
  );
}
