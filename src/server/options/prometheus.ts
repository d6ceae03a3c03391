/**
 * @module server/options/prometheus
 * How the adapter talks to Prometheus: the connection (prometheus-adapter's `--prometheus-*`
 * flags), query grouping, and how often metrics are rediscovered.
 */
import { Option } from "@commander-js/extra-typings";
import { KcmError } from "../../errors.ts";
import type { PrometheusClientOptions } from "../../prometheus/options.ts";
import {
  DEFAULT_GROUPING_MAX_OBJECTS,
  DEFAULT_MAX_QUERY_LENGTH,
} from "../../providers/prometheus/query-grouping.ts";
import { duration, header, nonNegativeInt } from "./parsers.ts";

export const prometheusFlags = {
  url: () =>
    new Option(
      "--prometheus-url <url>",
      "Prometheus (or Thanos, Mimir, VictoriaMetrics) base URL",
    ).default("https://localhost"),
  verb: () =>
    new Option("--prometheus-verb <verb>", "HTTP verb for Prometheus queries")
      .choices(["GET", "POST"] as const)
      .default("GET" as const),
  header: () =>
    new Option(
      "--prometheus-header <name=value>",
      "header added to every Prometheus request (repeatable)",
    )
      .default<Record<string, string>>({})
      .argParser(header),
  tokenFile: () => new Option("--prometheus-token-file <file>", "bearer token for Prometheus"),
  caFile: () =>
    new Option("--prometheus-ca-file <file>", "CA bundle that signs Prometheus' certificate"),
  clientCertFile: () =>
    new Option("--prometheus-client-tls-cert-file <file>", "client certificate for Prometheus"),
  clientKeyFile: () =>
    new Option("--prometheus-client-tls-key-file <file>", "client key for Prometheus"),
  timeout: () =>
    new Option("--prometheus-timeout <duration>", "timeout of one Prometheus request")
      .argParser(duration)
      .default(10_000, "10s"),
  groupingMaxObjects: () =>
    new Option(
      "--query-grouping-max-objects <n>",
      "answer concurrent custom-metrics requests for one metric from one Prometheus query over at most this many objects (0: one query per request)",
    )
      .argParser(nonNegativeInt)
      .default(DEFAULT_GROUPING_MAX_OBJECTS),
  maxQueryLength: () =>
    new Option(
      "--prometheus-max-query-length <bytes>",
      "longest PromQL, in bytes, that query grouping sends: batches and large * requests are split to stay within it (VictoriaMetrics refuses longer ones, -search.maxQueryLen); a query for a single object is sent anyway (0: no limit)",
    )
      .argParser(nonNegativeInt)
      .default(DEFAULT_MAX_QUERY_LENGTH),
  groupingWait: () =>
    new Option(
      "--query-grouping-wait <duration>",
      "longest a grouped query waits for requests of the same metric received with it that are still being authorized (0: never wait)",
    )
      .argParser(duration)
      .default(25, "25ms"),
  relistInterval: () =>
    new Option("--metrics-relist-interval <duration>", "how often to rediscover metrics")
      .argParser(duration)
      .default(600_000, "10m"),
  maxAge: () =>
    new Option(
      "--metrics-max-age <duration>",
      "only series seen within this age (default: the relist interval)",
    ).argParser(duration),
};

export interface PrometheusFlagValues {
  readonly prometheusUrl: string;
  readonly prometheusVerb: "GET" | "POST";
  readonly prometheusHeader: Record<string, string>;
  readonly prometheusTokenFile?: string | undefined;
  readonly prometheusCaFile?: string | undefined;
  readonly prometheusClientTlsCertFile?: string | undefined;
  readonly prometheusClientTlsKeyFile?: string | undefined;
  readonly prometheusTimeout: number;
  readonly queryGroupingMaxObjects: number;
  readonly prometheusMaxQueryLength: number;
  readonly queryGroupingWait: number;
  readonly metricsRelistInterval: number;
  readonly metricsMaxAge?: number | undefined;
}

export interface PrometheusConfig {
  /** The client's settings; the client checks URL and files itself when it is created. */
  readonly client: Omit<PrometheusClientOptions, "onRequest">;
  readonly grouping: {
    readonly maxObjects: number;
    readonly maxQueryLength: number;
    /** 0 when grouping is off or never waits: no arrivals tickets. */
    readonly waitMs: number;
  };
  readonly relist: { readonly intervalMs: number; readonly maxAgeMs: number };
}

export function validatePrometheus(v: PrometheusFlagValues): PrometheusConfig {
  // Zero or less would relist or time out at once, over and over.
  for (const [flag, ms] of [
    ["--metrics-relist-interval", v.metricsRelistInterval],
    ["--prometheus-timeout", v.prometheusTimeout],
  ] as const) {
    if (ms <= 0) throw new KcmError("KCM_ERR_USAGE", `${flag} must be longer than 0`);
  }
  const maxAgeMs = v.metricsMaxAge ?? v.metricsRelistInterval;
  if (maxAgeMs < v.metricsRelistInterval) {
    throw new KcmError(
      "KCM_ERR_USAGE",
      "--metrics-max-age must be at least --metrics-relist-interval, or metrics would vanish between relists",
    );
  }
  return {
    client: {
      url: v.prometheusUrl,
      verb: v.prometheusVerb,
      headers: v.prometheusHeader,
      timeoutMs: v.prometheusTimeout,
      // An empty flag value is no file, as before.
      ...(v.prometheusTokenFile ? { bearerTokenFile: v.prometheusTokenFile } : {}),
      ...(v.prometheusCaFile ? { caFile: v.prometheusCaFile } : {}),
      ...(v.prometheusClientTlsCertFile ? { clientCertFile: v.prometheusClientTlsCertFile } : {}),
      ...(v.prometheusClientTlsKeyFile ? { clientKeyFile: v.prometheusClientTlsKeyFile } : {}),
    },
    grouping: {
      maxObjects: v.queryGroupingMaxObjects,
      maxQueryLength: v.prometheusMaxQueryLength,
      waitMs: v.queryGroupingMaxObjects > 0 ? v.queryGroupingWait : 0,
    },
    relist: { intervalMs: v.metricsRelistInterval, maxAgeMs },
  };
}
