/**
 * @module cli/serve
 * `k8s-custom-metrics serve`: the adapter. Reads prometheus-adapter's config file and flags with
 * the same names and meanings (docs/flags.md).
 */
import { createServer } from "node:http";
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { parseGoDuration } from "../apimachinery/go-duration.ts";
import { customMetricsApi } from "../apis/custom-metrics.ts";
import { externalMetricsApi } from "../apis/external-metrics.ts";
import type { ApiGroup } from "../apis/types.ts";
import { defaultConfig } from "../config/defaults.ts";
import { loadConfig } from "../config/load.ts";
import type { AdapterConfig } from "../config/schema.ts";
import { KcmError } from "../errors.ts";
import { KubeClient } from "../kube/client.ts";
import { RestMapper } from "../kube/rest-mapper.ts";
import { createLogger } from "../observability/logger.ts";
import { PrometheusClient } from "../providers/prometheus/client.ts";
import { PrometheusCustomProvider } from "../providers/prometheus/custom-provider.ts";
import { PrometheusExternalProvider } from "../providers/prometheus/external-provider.ts";
import { MetricLister } from "../providers/prometheus/metric-lister.ts";
import { compileQueryTemplate, compileRule, namingMapper } from "../providers/prometheus/rules.ts";
import { createApiHandler } from "../server/api-server.ts";

export const VERSION = "v0.1.0";

function duration(v: string): number {
  try {
    return parseGoDuration(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError("expected a port number");
  return n;
}

function header(v: string, prev: Record<string, string>): Record<string, string> {
  const eq = v.indexOf("=");
  if (eq <= 0) throw new InvalidArgumentError(`expected NAME=VALUE, got ${JSON.stringify(v)}`);
  return { ...prev, [v.slice(0, eq)]: v.slice(eq + 1) };
}

export function serveCommand(): Command {
  return new Command("serve")
    .description("serve custom.metrics.k8s.io and external.metrics.k8s.io from Prometheus")
    .option(
      "--config <file>",
      "prometheus-adapter configuration file; without it, the default rules of its config generator",
    )
    .option(
      "--prometheus-url <url>",
      "Prometheus (or Thanos, Mimir, VictoriaMetrics) base URL",
      "https://localhost",
    )
    .addOption(
      new Option("--prometheus-verb <verb>", "HTTP verb for Prometheus queries")
        .choices(["GET", "POST"] as const)
        .default("GET" as const),
    )
    .option(
      "--prometheus-header <name=value>",
      "header added to every Prometheus request (repeatable)",
      header,
      {},
    )
    .option("--prometheus-token-file <file>", "bearer token for Prometheus")
    .option("--prometheus-ca-file <file>", "CA bundle that signs Prometheus' certificate")
    .option("--prometheus-client-tls-cert-file <file>", "client certificate for Prometheus")
    .option("--prometheus-client-tls-key-file <file>", "client key for Prometheus")
    .option(
      "--prometheus-timeout <duration>",
      "timeout of one Prometheus request",
      duration,
      10_000,
    )
    .option(
      "--metrics-relist-interval <duration>",
      "how often to rediscover metrics",
      duration,
      600_000,
    )
    .option(
      "--metrics-max-age <duration>",
      "only series seen within this age (default: the relist interval)",
      duration,
    )
    .option(
      "--lister-kubeconfig <file>",
      "kubeconfig for discovery and for listing objects (default: in-cluster)",
    )
    .option(
      "--insecure-http-port <port>",
      "serve plain HTTP on 127.0.0.1:<port> without authentication (local testing only)",
      port,
    )
    .option("--v <level>", "log verbosity (klog style)", (v) => Number(v), 0)
    .action(async (o) => {
      const log = createLogger(o.v);
      if (o.insecureHttpPort === undefined) {
        throw new KcmError(
          "KCM_ERR_USAGE",
          "secure serving is not implemented yet; pass --insecure-http-port for local testing",
        );
      }
      const maxAge = o.metricsMaxAge ?? o.metricsRelistInterval;
      if (maxAge < o.metricsRelistInterval) {
        throw new KcmError(
          "KCM_ERR_USAGE",
          "--metrics-max-age must be at least --metrics-relist-interval, or metrics would vanish between relists",
        );
      }
      const config: AdapterConfig = o.config
        ? await loadConfig(o.config, {
            compileTemplate: (t) => {
              const c = compileQueryTemplate(t, "check");
              return (d) => c.execute(d);
            },
          })
        : defaultConfig();
      const kube = new KubeClient({ kubeconfig: o.listerKubeconfig });
      const mapper = new RestMapper(kube);
      await mapper.refresh().catch((e: unknown) => {
        throw new KcmError(
          "KCM_ERR_KUBE_UNREACHABLE",
          `cannot read API discovery from ${kube.server || "in-cluster"}: ${String(e)}`,
        );
      });
      const nm = namingMapper(mapper);
      const custom = (config.rules ?? []).map((r, i) => compileRule(r, `rules[${String(i)}]`, nm));
      const external = (config.externalRules ?? []).map((r, i) =>
        compileRule(r, `externalRules[${String(i)}]`, nm),
      );
      const prometheus = await PrometheusClient.create({
        url: o.prometheusUrl,
        verb: o.prometheusVerb,
        headers: o.prometheusHeader,
        timeoutMs: o.prometheusTimeout,
        ...(o.prometheusTokenFile ? { bearerTokenFile: o.prometheusTokenFile } : {}),
        ...(o.prometheusCaFile ? { caFile: o.prometheusCaFile } : {}),
        ...(o.prometheusClientTlsCertFile ? { clientCertFile: o.prometheusClientTlsCertFile } : {}),
        ...(o.prometheusClientTlsKeyFile ? { clientKeyFile: o.prometheusClientTlsKeyFile } : {}),
      });
      const lister = new MetricLister(
        prometheus,
        { custom, external },
        {
          relistIntervalMs: o.metricsRelistInterval,
          maxAgeMs: maxAge,
          log,
        },
      );
      const mapperTimer = setInterval(() => void mapper.refresh().catch(() => undefined), 60_000);
      mapperTimer.unref();
      const groups: ApiGroup[] = [];
      // As upstream: a group without rules is not installed.
      if (custom.length > 0) {
        groups.push(
          customMetricsApi(
            new PrometheusCustomProvider({
              prometheus,
              mapper,
              kube,
              registry: () => lister.custom,
              log,
            }),
            mapper,
          ),
        );
      }
      if (external.length > 0) {
        groups.push(
          externalMetricsApi(
            new PrometheusExternalProvider({ prometheus, registry: () => lister.external, log }),
          ),
        );
      }
      void lister.start();
      const handler = createApiHandler({
        groups,
        log,
        ready: () => lister.ready,
        version: { gitVersion: VERSION },
      });
      const server = createServer(handler);
      await new Promise<void>((resolve, reject) => {
        server.once("error", (e: NodeJS.ErrnoException) => {
          reject(
            e.code === "EADDRINUSE"
              ? new KcmError(
                  "KCM_ERR_PORT_BUSY",
                  `port ${String(o.insecureHttpPort)} on 127.0.0.1 is in use`,
                )
              : e,
          );
        });
        server.listen(o.insecureHttpPort, "127.0.0.1", resolve);
      });
      log.warn(
        { port: o.insecureHttpPort },
        "serving plain HTTP on 127.0.0.1 without authentication: for local testing only",
      );
      const stop = () => {
        log.info("shutting down");
        lister.stop();
        clearInterval(mapperTimer);
        server.close(() => {
          void prometheus.close().finally(() => process.exit(0));
        });
      };
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    });
}
