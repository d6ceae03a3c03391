/**
 * @module observability/metrics
 * The adapter's own metrics, on a registry of its own. Request metrics keep kube-apiserver's
 * names so existing dashboards for aggregated API servers work.
 */
import { constants, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import {
  currentDiscoveredByServer,
  currentPrometheusServer,
  DEFAULT_SERVER,
  type DiscoveredByServer,
} from "./server-label.ts";

export { DEFAULT_SERVER };

/** Which per-rule data option answered (config `k8sCustomMetrics`). */
export type DataOptionAnswer = "last_good_value" | "value_when_missing";

// Process-wide, so providers count without being handed the registry; the adapter's registry
// reads them when scraped.
const dataAnswers = new Map<string, number>();

/** Counts objects answered by a data option instead of by a Prometheus sample. */
export function countDataAnswer(
  api: "custom" | "external",
  option: DataOptionAnswer,
  objects = 1,
): void {
  const key = `${api}\u0000${option}`;
  dataAnswers.set(key, (dataAnswers.get(key) ?? 0) + objects);
}

export interface AdapterMetrics {
  readonly registry: Registry;
  request(group: string, verb: string, code: number, seconds: number): void;
  /**
   * One request to a Prometheus server. `server`: its short name (`default` for
   * `--prometheus-url`); when left out, the one the client set around its hook, else `default`.
   */
  prometheusRequest(endpoint: string, seconds: number, outcome: string, server?: string): void;
  /**
   * Custom-metrics requests answered by a Prometheus query, one request's own (`single`) or
   * `grouped`; `queries` 0 for requests that joined an identical one in flight.
   */
  customQuery(mode: "single" | "grouped", requests: number, queries: number): void;
  /** Pod cache list/watch (re)starts, and watch failures. */
  podCacheEvent(event: "list" | "relist" | "watch" | "watch-error"): void;
  /** Pod lookups answered from the pod cache or by a direct list (cache not synced or stale). */
  podLookup(source: "cache" | "fallback"): void;
  /**
   * A discovery pass. `unconfirmed-*`: it succeeded but its list, empty or much smaller, waits for
   * the next pass to confirm it (counted as a success, and by reason).
   */
  relist(
    outcome: "success" | "error" | "unconfirmed-empty" | "unconfirmed-shrink",
    seconds: number,
    counts?: { custom: number; external: number },
    byServer?: DiscoveredByServer,
  ): void;
  /** Warnings of the config in use (problems prometheus-adapter would meet only at query time). */
  configWarnings(count: number): void;
  /** After each config reload attempt (as Prometheus' own reload metrics). */
  configReload(ok: boolean): void;
}

const GC_DURATION = "nodejs_gc_duration_seconds";

const GC_KINDS: Readonly<Record<number, string>> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
};

/**
 * prom-client's `nodejs_gc_duration_seconds`, counting every collection. prom-client 15.1's own
 * (lib/metrics/gc.js) observes only the first entry of each batch its PerformanceObserver gets,
 * and under load V8's collections come in batches (a mark-compact right after the incremental
 * marking and scavenges before it): in the 10,000-HPA fleet it counted 5 mark-compacts where 16
 * took place. Same name, labels and buckets, so dashboards read it unchanged.
 */
function gcDurations(registry: Registry): void {
  registry.removeSingleMetric(GC_DURATION);
  const h = new Histogram({
    name: GC_DURATION,
    help: "Time spent in garbage collection, by kind: major, minor, incremental or weakcb.",
    labelNames: ["kind"] as const,
    buckets: [0.001, 0.01, 0.1, 1, 2, 5],
    registers: [registry],
  });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind =
        GC_KINDS[(e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1];
      if (kind !== undefined) h.observe({ kind }, e.duration / 1000);
    }
  }).observe({ entryTypes: ["gc"] });
}

export function createAdapterMetrics(version: string): AdapterMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  gcDurations(registry);
  const registers = [registry];
  new Gauge({
    name: "k8s_custom_metrics_build_info",
    help: "Build information of the adapter; the value is always 1.",
    labelNames: ["version", "node_version"] as const,
    registers,
  }).set({ version, node_version: process.version }, 1);
  const requests = new Counter({
    name: "apiserver_request_total",
    help: "Requests answered, by API group, verb and HTTP code.",
    labelNames: ["group", "verb", "code"] as const,
    registers,
  });
  const latency = new Histogram({
    name: "apiserver_request_duration_seconds",
    help: "Time to answer a request, by API group and verb.",
    labelNames: ["group", "verb"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const promLatency = new Histogram({
    name: "k8s_custom_metrics_prometheus_request_duration_seconds",
    help: "Time of requests to Prometheus, by endpoint, outcome and server (default: --prometheus-url; else a rule's k8sCustomMetrics.server host).",
    labelNames: ["endpoint", "outcome", "server"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const promErrors = new Counter({
    name: "k8s_custom_metrics_prometheus_request_errors_total",
    help: "Failed requests to Prometheus, by endpoint, kind of failure and server (default: --prometheus-url; else a rule's k8sCustomMetrics.server host).",
    labelNames: ["endpoint", "outcome", "server"] as const,
    registers,
  });
  const customQueries = new Counter({
    name: "k8s_custom_metrics_custom_queries_total",
    help: "Prometheus queries made for custom metrics, by mode: single (one request's own query) or grouped (one query for several requests, --query-grouping-max-objects).",
    labelNames: ["mode"] as const,
    registers,
  });
  const customRequests = new Counter({
    name: "k8s_custom_metrics_custom_query_requests_total",
    help: "Custom-metrics requests answered from Prometheus, by the mode of the query that answered them.",
    labelNames: ["mode"] as const,
    registers,
  });
  // Both modes from the start, so rates work before the first grouped query.
  for (const mode of ["single", "grouped"] as const) {
    customQueries.inc({ mode }, 0);
    customRequests.inc({ mode }, 0);
  }
  const relists = new Counter({
    name: "k8s_custom_metrics_discovery_runs_total",
    help: "Metric discovery passes, by outcome; a failed pass keeps the last good list.",
    labelNames: ["outcome"] as const,
    registers,
  });
  const unconfirmed = new Counter({
    name: "k8s_custom_metrics_discovery_unconfirmed_total",
    help: "Discovery passes not applied at once, by reason: empty (no metrics) or shrink (an API lost more than half of its metric names). The last good list keeps serving until the next pass confirms the smaller one.",
    labelNames: ["reason"] as const,
    registers,
  });
  for (const reason of ["empty", "shrink"] as const) unconfirmed.inc({ reason }, 0);
  const relistSeconds = new Gauge({
    name: "k8s_custom_metrics_discovery_duration_seconds",
    help: "Duration of the last metric discovery pass.",
    registers,
  });
  const metricCount = new Gauge({
    name: "k8s_custom_metrics_discovered_metrics",
    help: "Metrics the last successful discovery found, by API and by the server whose rules give them (default: --prometheus-url; else a rule's k8sCustomMetrics.server host). With tenants, a metric several tenants have counts once.",
    labelNames: ["api", "server"] as const,
    registers,
  });
  const podCacheEvents = new Counter({
    name: "k8s_custom_metrics_pod_cache_events_total",
    help: "Pod cache lists (first list), relists (after 410 Gone), watch starts and watch/list failures.",
    labelNames: ["event"] as const,
    registers,
  });
  const podLookups = new Counter({
    name: "k8s_custom_metrics_pod_lookups_total",
    help: "Pod lookups for pods/* and metrics.k8s.io, by source: cache, or fallback (a direct list while the cache is not synced or stale).",
    labelNames: ["source"] as const,
    registers,
  });
  const configWarnings = new Gauge({
    name: "k8s_custom_metrics_config_warnings",
    help: "Warnings of the configuration in use: rules that load but whose metrics cannot be listed or queried as written (see the log for file:line:col).",
    registers,
  });
  const reloadOk = new Gauge({
    name: "k8s_custom_metrics_config_last_reload_successful",
    help: "Whether the last config reload attempt succeeded (1) or kept the previous config (0).",
    registers,
  });
  reloadOk.set(1);
  const reloadTime = new Gauge({
    name: "k8s_custom_metrics_config_last_reload_success_timestamp_seconds",
    help: "When the config in use was loaded (startup or the last successful reload).",
    registers,
  });
  reloadTime.setToCurrentTime();
  new Counter({
    name: "k8s_custom_metrics_data_option_answers_total",
    help: "Objects answered by a rule's data option instead of a Prometheus sample: last_good_value (Prometheus unavailable, k8sCustomMetrics.lastGoodValueFor) or value_when_missing (no sample, k8sCustomMetrics.valueWhenMissing).",
    labelNames: ["api", "option"] as const,
    registers,
    collect() {
      this.reset();
      for (const api of ["custom", "external"] as const) {
        for (const option of ["last_good_value", "value_when_missing"] as const) {
          this.inc({ api, option }, dataAnswers.get(`${api}\u0000${option}`) ?? 0);
        }
      }
    },
  });
  return {
    registry,
    configReload(ok) {
      reloadOk.set(ok ? 1 : 0);
      if (ok) reloadTime.setToCurrentTime();
    },
    podCacheEvent(event) {
      podCacheEvents.inc({ event });
    },
    podLookup(source) {
      podLookups.inc({ source });
    },
    request(group, verb, code, seconds) {
      requests.inc({ group, verb, code: String(code) });
      latency.observe({ group, verb }, seconds);
    },
    prometheusRequest(endpoint, seconds, outcome, server) {
      const labels = {
        endpoint,
        outcome,
        server: server ?? currentPrometheusServer() ?? DEFAULT_SERVER,
      };
      promLatency.observe(labels, seconds);
      if (outcome !== "success") promErrors.inc(labels);
    },
    customQuery(mode, n, queries) {
      customQueries.inc({ mode }, queries);
      customRequests.inc({ mode }, n);
    },
    configWarnings(count) {
      configWarnings.set(count);
    },
    relist(outcome, seconds, counts, byServer) {
      if (outcome === "unconfirmed-empty" || outcome === "unconfirmed-shrink") {
        unconfirmed.inc({ reason: outcome === "unconfirmed-empty" ? "empty" : "shrink" });
        relists.inc({ outcome: "success" });
      } else {
        relists.inc({ outcome });
      }
      relistSeconds.set(seconds);
      if (counts) {
        // Every server of the pass, a server without metrics at 0; servers a reloaded config
        // dropped go away.
        const per = byServer ?? currentDiscoveredByServer() ?? { [DEFAULT_SERVER]: counts };
        metricCount.reset();
        for (const [server, n] of Object.entries(per)) {
          metricCount.set({ api: "custom", server }, n.custom);
          metricCount.set({ api: "external", server }, n.external);
        }
      }
    },
  };
}
