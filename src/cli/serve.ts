/**
 * @module cli/serve
 * `k8s-custom-metrics serve`: the adapter. Reads prometheus-adapter's config file and flags with
 * the same names and meanings (docs/flags.md).
 */
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { parseGoDuration } from "../apimachinery/go-duration.ts";
import { customMetricsApi } from "../apis/custom-metrics.ts";
import { externalMetricsApi } from "../apis/external-metrics.ts";
import { resourceMetricsApi } from "../apis/resource-metrics.ts";
import type { ApiGroup } from "../apis/types.ts";
import { defaultConfig } from "../config/defaults.ts";
import { ConfigError, formatIssue, type ConfigIssue } from "../config/errors.ts";
import { parseConfig, readConfigText } from "../config/load.ts";
import { watchConfig } from "../config/watch.ts";
import type { AdapterConfig } from "../config/schema.ts";
import { KcmError } from "../errors.ts";
import { KubeClient } from "../kube/client.ts";
import { PodCache } from "../kube/pod-cache.ts";
import { RestMapper } from "../kube/rest-mapper.ts";
import { createLogger } from "../observability/logger.ts";
import { PrometheusClient } from "../providers/prometheus/client.ts";
import { PrometheusCustomProvider } from "../providers/prometheus/custom-provider.ts";
import { PrometheusExternalProvider } from "../providers/prometheus/external-provider.ts";
import { MetricLister } from "../providers/prometheus/metric-lister.ts";
import { Arrivals } from "../providers/prometheus/arrivals.ts";
import {
  DEFAULT_GROUPING_MAX_OBJECTS,
  DEFAULT_MAX_QUERY_LENGTH,
} from "../providers/prometheus/query-grouping.ts";
import { DEFAULT_ADDRESS_TYPES, KubeletScraper } from "../providers/resource/kubelet-scraper.ts";
import { KubeletSource } from "../providers/resource/kubelet-source.ts";
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  kubeletFlagErrors,
} from "../providers/resource/kubelet-options.ts";
import { KubeResourceObjects } from "../providers/resource/objects.ts";
import { PrometheusResourceSource } from "../providers/resource/prometheus-source.ts";
import { checkTemplate, compileRules, namingMapper } from "../providers/prometheus/rules.ts";
import { DelegatedAuth } from "../auth/delegated-auth.ts";
import { createAdapterMetrics } from "../observability/metrics.ts";
import { createApiHandler } from "../server/api-server.ts";
import { authenticated, clientCaPem, serveInsecure } from "../server/handlers.ts";
import {
  DEFAULT_HTTP2_MAX_STREAMS,
  listenSecure,
  tlsMinVersion,
} from "../server/secure-serving.ts";
import { selectCiphers } from "../server/tls-ciphers.ts";

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

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError("expected a non-negative integer");
  }
  return n;
}

/**
 * `--http2-max-streams-per-connection`: an int as in Go; zero or negative means the default (the
 * generic apiserver only uses values above 0), HTTP/2 allows at most 2^32-1.
 */
function http2Streams(v: string): number {
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n > 0xffff_ffff) {
    throw new InvalidArgumentError("expected an integer up to 4294967295");
  }
  return Math.max(n, 0);
}

/** A Go-style boolean flag value: `--flag=false` as well as `--flag` / `--no-flag`. */
function bool(v: string): boolean {
  if (["true", "1", "t", "T", "TRUE", "True"].includes(v)) return true;
  if (["false", "0", "f", "F", "FALSE", "False"].includes(v)) return false;
  throw new InvalidArgumentError("expected true or false");
}

function list(v: string): string[] {
  return v.split(",").filter((x) => x !== "");
}

function header(v: string, prev: Record<string, string>): Record<string, string> {
  const eq = v.indexOf("=");
  if (eq <= 0) throw new InvalidArgumentError(`expected NAME=VALUE, got ${JSON.stringify(v)}`);
  return { ...prev, [v.slice(0, eq)]: v.slice(eq + 1) };
}

/** What the Helm chart passes first: the upstream image runs `/adapter /adapter --flags…`. */
const UPSTREAM_ENTRYPOINT = "/adapter";

/**
 * Flags deployments of prometheus-adapter pass that have nothing to act on here, accepted so those
 * deployments start unchanged (docs/flags.md). klog's own flags (k8s.io/klog/v2 InitFlags, in
 * Go's underscore spelling and the hyphen one component-base normalizes to), component-base's
 * --log-flush-frequency, and the generic apiserver's profiling and client rate-limit flags.
 * Logs always go to stdout as JSON; `--v` is the one logging flag with an effect.
 */
const COMPATIBILITY_FLAGS: readonly (readonly [flags: string, kind: "bool" | "value"])[] = [
  ...(
    [
      ["logtostderr", "bool"],
      ["alsologtostderr", "bool"],
      ["add-dir-header", "bool"],
      ["skip-headers", "bool"],
      ["skip-log-headers", "bool"],
      ["one-output", "bool"],
      ["log-dir", "value"],
      ["log-file", "value"],
      ["log-file-max-size", "value"],
      ["stderrthreshold", "value"],
      ["vmodule", "value"],
      ["log-backtrace-at", "value"],
    ] as const
  ).flatMap(([name, kind]) =>
    [...new Set([name, name.replaceAll("-", "_")])].map(
      (n) => [kind === "bool" ? `--${n} [bool]` : `--${n} <value>`, kind] as const,
    ),
  ),
  ["--log-flush-frequency <duration>", "value"],
  ["--profiling [bool]", "bool"],
  ["--contention-profiling [bool]", "bool"],
  ["--client-qps <n>", "value"],
  ["--client-burst <n>", "value"],
];

/** Commander's attribute name for an option: `--log-file` → `logFile`, `--log_file` stays. */
function optionKey(flags: string): string {
  return new Option(flags).attributeName();
}

function withCompatibilityFlags<C extends Command>(cmd: C): C {
  for (const [flags, kind] of COMPATIBILITY_FLAGS) {
    const opt = new Option(flags, "accepted for compatibility, without effect").hideHelp();
    cmd.addOption(kind === "bool" ? opt.argParser(bool) : opt);
  }
  return cmd;
}

export function serveCommand(): Command {
  return (
    withCompatibilityFlags(new Command("serve"))
      .description(
        "serve custom.metrics.k8s.io, external.metrics.k8s.io and metrics.k8s.io from Prometheus (or kubelets)",
      )
      .option(
        "--config <file>",
        "prometheus-adapter configuration file; without it, the default rules of its config generator",
      )
      .option(
        "--disable-config-reload",
        "do not reload --config when the file changes or on SIGHUP",
        false,
      )
      .option(
        "--strict-config",
        "refuse to start on config warnings too (rules prometheus-adapter starts with but that fail at query time, overrides naming resources the cluster lacks): for CI checks",
        false,
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
      .addOption(
        new Option("--prometheus-timeout <duration>", "timeout of one Prometheus request")
          .argParser(duration)
          .default(10_000, "10s"),
      )
      .addOption(
        new Option(
          "--query-grouping-max-objects <n>",
          "answer concurrent custom-metrics requests for one metric from one Prometheus query over at most this many objects (0: one query per request)",
        )
          .argParser(nonNegativeInt)
          .default(DEFAULT_GROUPING_MAX_OBJECTS),
      )
      .addOption(
        new Option(
          "--prometheus-max-query-length <bytes>",
          "longest PromQL, in bytes, that query grouping sends: batches and large * requests are split to stay within it (VictoriaMetrics refuses longer ones, -search.maxQueryLen); a query for a single object is sent anyway (0: no limit)",
        )
          .argParser(nonNegativeInt)
          .default(DEFAULT_MAX_QUERY_LENGTH),
      )
      .addOption(
        new Option(
          "--query-grouping-wait <duration>",
          "longest a grouped query waits for requests of the same metric that entered before it and are still being authorized (0: never wait)",
        )
          .argParser(duration)
          .default(25, "25ms"),
      )
      .addOption(
        new Option("--metrics-relist-interval <duration>", "how often to rediscover metrics")
          .argParser(duration)
          .default(600_000, "10m"),
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
      .option("--bind-address <ip>", "address to serve HTTPS on", "0.0.0.0")
      .option("--secure-port <port>", "HTTPS port", port, 6443)
      .option(
        "--cert-dir <dir>",
        "where a self-signed serving certificate is written when --tls-cert-file is not given",
        "apiserver.local.config/certificates",
      )
      .option(
        "--tls-cert-file <file>",
        "serving certificate (PEM, with intermediates); re-read when it changes",
      )
      .option("--tls-private-key-file <file>", "serving key (PEM)")
      .option("--tls-min-version <version>", "VersionTLS12 or VersionTLS13")
      .option(
        "--tls-cipher-suites <list>",
        "comma-separated Go crypto/tls cipher suite names; ones this OpenSSL lacks (RC4, 3DES) are skipped with a warning",
        list,
        [] as string[],
      )
      .option(
        "--http2-max-streams-per-connection <n>",
        `the limit that the server gives to clients for the maximum number of streams in an HTTP/2 connection (0: ${String(DEFAULT_HTTP2_MAX_STREAMS)}, as the generic apiserver)`,
        http2Streams,
        0,
      )
      .option(
        "--authentication-kubeconfig <file>",
        "kubeconfig for TokenReview and the auth ConfigMap (default: --lister-kubeconfig, else in-cluster)",
      )
      .option(
        "--authentication-skip-lookup",
        "do not read kube-system/extension-apiserver-authentication",
        false,
      )
      .option(
        "--authentication-tolerate-lookup-failure",
        "start even if the auth ConfigMap cannot be read",
        false,
      )
      .addOption(
        new Option(
          "--authentication-token-webhook-cache-ttl <duration>",
          "how long TokenReview answers are cached",
        )
          .argParser(duration)
          .default(10_000, "10s"),
      )
      .option(
        "--client-ca-file <file>",
        "CA bundle for client certificates (overrides the ConfigMap)",
      )
      .option(
        "--requestheader-client-ca-file <file>",
        "CA bundle for front-proxy client certificates (overrides the ConfigMap)",
      )
      .option(
        "--requestheader-allowed-names <list>",
        "allowed front-proxy certificate CNs",
        list,
        [] as string[],
      )
      .option("--requestheader-username-headers <list>", "username headers", list, [
        "x-remote-user",
      ])
      .option("--requestheader-group-headers <list>", "group headers", list, ["x-remote-group"])
      .option("--requestheader-extra-headers-prefix <list>", "extra header prefixes", list, [
        "x-remote-extra-",
      ])
      .option("--requestheader-uid-headers <list>", "UID headers", list, [] as string[])
      .option(
        "--authorization-kubeconfig <file>",
        "kubeconfig for SubjectAccessReview (default: --lister-kubeconfig, else in-cluster)",
      )
      .option(
        "--authorization-always-allow-paths <list>",
        "paths allowed without authorization",
        list,
        ["/healthz", "/readyz", "/livez"],
      )
      .addOption(
        new Option(
          "--authorization-webhook-cache-authorized-ttl <duration>",
          "how long allowed answers are cached",
        )
          .argParser(duration)
          .default(10_000, "10s"),
      )
      .addOption(
        new Option(
          "--authorization-webhook-cache-unauthorized-ttl <duration>",
          "how long denied answers are cached",
        )
          .argParser(duration)
          .default(10_000, "10s"),
      )
      .addOption(
        new Option(
          "--shutdown-grace-period <duration>",
          "how long in-flight requests may take on SIGTERM",
        )
          .argParser(duration)
          .default(30_000, "30s"),
      )
      .option(
        "--insecure-http-port <port>",
        "serve plain HTTP on 127.0.0.1:<port> without authentication instead of HTTPS (local testing only)",
        port,
      )
      .addOption(
        new Option(
          "--discovery-interval <duration>",
          "how often to refresh the REST mapping from API discovery (also refreshed on a miss)",
        )
          .argParser(duration)
          .default(600_000, "10m"),
      )
      .addOption(
        new Option(
          "--pod-cache [bool]",
          "read pods for pods/* and metrics.k8s.io from a watched cache instead of listing them per request (--pod-cache=false or --no-pod-cache: always list)",
        )
          .argParser(bool)
          .default(true),
      )
      .addOption(new Option("--no-pod-cache", "always list pods from the API server").hideHelp())
      .option("--disable-http2", "serve HTTP/1.1 only", false)
      .option("--disable-custom-metrics", "do not serve custom.metrics.k8s.io", false)
      .option("--disable-external-metrics", "do not serve external.metrics.k8s.io", false)
      .option("--disable-resource-metrics", "do not serve metrics.k8s.io", false)
      .addOption(
        new Option(
          "--resource-metrics-source <source>",
          "serve metrics.k8s.io from Prometheus resourceRules or from kubelets (default: prometheus when the config has resourceRules, else metrics.k8s.io is not served)",
        ).choices(["prometheus", "kubelet"] as const),
      )
      .addOption(
        new Option(
          "--metric-resolution <duration>",
          "kubelet source: how often kubelets are scraped (at least 10s, as metrics-server)",
        )
          .argParser(duration)
          .default(15_000, "15s"),
      )
      .option(
        "--kubelet-preferred-address-types <list>",
        "kubelet source: node address types to connect to, in order",
        list,
        [...DEFAULT_ADDRESS_TYPES],
      )
      .option("--kubelet-port <port>", "kubelet source: kubelet port", port, 10250)
      .option(
        "--kubelet-use-node-status-port",
        "kubelet source: use the port in node.status.daemonEndpoints.kubeletEndpoint",
        false,
      )
      .addOption(
        new Option(
          "--kubelet-scheme <scheme>",
          "kubelet source: http is only allowed to loopback addresses (local node agents)",
        )
          .choices(["https", "http"] as const)
          .default("https" as const),
      )
      .option(
        "--kubelet-insecure-tls",
        "kubelet source: do not verify kubelet serving certificates",
        false,
      )
      .option(
        "--kubelet-certificate-authority <file>",
        "kubelet source: CA bundle for kubelet serving certificates (default: the kubeconfig's)",
      )
      .option(
        "--kubelet-client-certificate <file>",
        "kubelet source: client certificate for kubelets (default: the kubeconfig's)",
      )
      .option("--kubelet-client-key <file>", "kubelet source: key of --kubelet-client-certificate")
      .addOption(
        new Option(
          "--kubelet-request-timeout <duration>",
          "kubelet source: how long one request to a kubelet may take, body included",
        )
          .argParser(duration)
          .default(DEFAULT_REQUEST_TIMEOUT_MS, "10s"),
      )
      .option(
        "-l, --node-selector <selector>",
        "kubelet source: only scrape the nodes this label selector picks",
      )
      .option("--v <level>", "log verbosity (klog style)", (v) => Number(v), 0)
      // Checked in the action: only the upstream image's entrypoint is let through.
      .allowExcessArguments(true)
      .action(async (o, cmd) => {
        const [operand, ...more] = cmd.args;
        if (more.length > 0 || (operand !== undefined && operand !== UPSTREAM_ENTRYPOINT)) {
          throw new KcmError(
            "KCM_ERR_USAGE",
            `unexpected arguments for 'serve': ${JSON.stringify(cmd.args)} (only ${UPSTREAM_ENTRYPOINT}, the prometheus-adapter image's entrypoint, is accepted and ignored)`,
          );
        }
        // Before anything slow: a wrong name stops the adapter at once, as in Go.
        const ciphers = selectCiphers(o.tlsCipherSuites);
        const minVersion = tlsMinVersion(o.tlsMinVersion);
        const log = createLogger(o.v);
        if (operand !== undefined) {
          log.info(
            `ignoring the argument ${UPSTREAM_ENTRYPOINT}: the prometheus-adapter image's entrypoint, passed by its Helm chart`,
          );
        }
        const inert = COMPATIBILITY_FLAGS.filter(
          ([flags]) => cmd.getOptionValueSource(optionKey(flags)) === "cli",
        ).map(([flags]) => flags.split(" ")[0]);
        if (inert.length > 0) {
          log.info({ flags: inert }, "flags accepted for compatibility, without effect");
        }
        if (ciphers.unavailable.length > 0) {
          log.warn(
            { unavailable: ciphers.unavailable, tls13Only: ciphers.tls13Only },
            ciphers.tls13Only
              ? "--tls-cipher-suites: this Node.js/OpenSSL offers none of the TLS 1.2 suites listed, so only TLS 1.3 is served"
              : "--tls-cipher-suites: suites this Node.js/OpenSSL cannot offer are skipped; the others are offered",
          );
        }
        const maxAge = o.metricsMaxAge ?? o.metricsRelistInterval;
        if (maxAge < o.metricsRelistInterval) {
          throw new KcmError(
            "KCM_ERR_USAGE",
            "--metrics-max-age must be at least --metrics-relist-interval, or metrics would vanish between relists",
          );
        }
        if (o.resourceMetricsSource === "kubelet" && !o.disableResourceMetrics) {
          const errors = kubeletFlagErrors({
            resolutionMs: o.metricResolution,
            requestTimeoutMs: o.kubeletRequestTimeout,
            insecureTls: o.kubeletInsecureTls,
            caFile: o.kubeletCertificateAuthority,
            clientCertFile: o.kubeletClientCertificate,
            clientKeyFile: o.kubeletClientKey,
            nodeSelector: o.nodeSelector,
          });
          if (errors.length > 0) throw new KcmError("KCM_ERR_USAGE", errors.join("; "));
        }
        const warnings: ConfigIssue[] = [];
        const loadOptions = (into: ConfigIssue[]) => ({
          compileTemplate: checkTemplate,
          strict: o.strictConfig,
          onWarning: (w: ConfigIssue) => into.push(w),
        });
        const configText = o.config === undefined ? undefined : await readConfigText(o.config);
        const config: AdapterConfig =
          o.config === undefined || configText === undefined
            ? defaultConfig()
            : parseConfig(configText, o.config, loadOptions(warnings));
        const kube = new KubeClient({ kubeconfig: o.listerKubeconfig });
        const mapper = new RestMapper(kube);
        await mapper.refresh().catch((e: unknown) => {
          throw new KcmError(
            "KCM_ERR_KUBE_UNREACHABLE",
            `cannot read API discovery from ${kube.server || "in-cluster"}: ${String(e)}`,
          );
        });
        const nm = namingMapper(mapper);
        const compiled = compileRules(config, nm);
        const { custom, external } = compiled;
        warnings.push(...compiled.pending);
        if (o.strictConfig && warnings.length > 0) throw new ConfigError(warnings);
        for (const w of warnings) log.warn({ configWarning: true }, formatIssue(w));
        const metrics = createAdapterMetrics(VERSION);
        metrics.configWarnings(warnings.length);
        const prometheus = await PrometheusClient.create({
          onRequest: (endpoint, ms, outcome) => {
            metrics.prometheusRequest(endpoint, ms / 1000, outcome);
          },
          url: o.prometheusUrl,
          verb: o.prometheusVerb,
          headers: o.prometheusHeader,
          timeoutMs: o.prometheusTimeout,
          ...(o.prometheusTokenFile ? { bearerTokenFile: o.prometheusTokenFile } : {}),
          ...(o.prometheusCaFile ? { caFile: o.prometheusCaFile } : {}),
          ...(o.prometheusClientTlsCertFile
            ? { clientCertFile: o.prometheusClientTlsCertFile }
            : {}),
          ...(o.prometheusClientTlsKeyFile ? { clientKeyFile: o.prometheusClientTlsKeyFile } : {}),
        });
        const lister = new MetricLister(
          prometheus,
          {
            custom: o.disableCustomMetrics ? [] : custom,
            external: o.disableExternalMetrics ? [] : external,
          },
          {
            relistIntervalMs: o.metricsRelistInterval,
            maxAgeMs: maxAge,
            log,
            onRelist: (outcome, ms, result) => {
              metrics.relist(
                outcome,
                ms / 1000,
                result && { custom: result.custom.size, external: result.external.size },
              );
            },
          },
        );
        const mapperTimer = setInterval(
          () => void mapper.refresh().catch(() => undefined),
          o.discoveryInterval,
        );
        mapperTimer.unref();
        // One watched pod cache for both APIs, only when one of them may list pods.
        const resourceSourceName =
          o.resourceMetricsSource ?? (config.resourceRules ? "prometheus" : undefined);
        const wantsPods =
          (custom.length > 0 && !o.disableCustomMetrics) ||
          (!o.disableResourceMetrics && resourceSourceName !== undefined);
        let podCache: PodCache | undefined;
        if (o.podCache && wantsPods) {
          podCache = new PodCache({
            kube,
            log,
            onEvent: (e) => {
              metrics.podCacheEvent(e);
            },
            onLookup: (source) => {
              metrics.podLookup(source);
            },
          });
          podCache.start();
        }
        // Tickets for custom-metrics requests on their way to the query step, so a grouped query
        // can wait for peers of its burst (providers/prometheus/arrivals.ts).
        const arrivals =
          o.queryGroupingMaxObjects > 0 && o.queryGroupingWait > 0
            ? new Arrivals(o.queryGroupingWait)
            : undefined;
        const groups: ApiGroup[] = [];
        // As upstream: a group without rules is not installed.
        if (custom.length > 0 && !o.disableCustomMetrics) {
          groups.push(
            customMetricsApi(
              new PrometheusCustomProvider({
                prometheus,
                mapper,
                kube,
                registry: () => lister.custom,
                log,
                groupingMaxObjects: o.queryGroupingMaxObjects,
                maxQueryLength: o.prometheusMaxQueryLength,
                onQuery: (mode, requests, queries) => {
                  metrics.customQuery(mode, requests, queries);
                },
                ...(arrivals ? { arrivals } : {}),
                ...(podCache ? { podCache } : {}),
              }),
              mapper,
            ),
          );
        }
        if (external.length > 0 && !o.disableExternalMetrics) {
          groups.push(
            externalMetricsApi(
              new PrometheusExternalProvider({ prometheus, registry: () => lister.external, log }),
            ),
          );
        }
        // metrics.k8s.io, as upstream, only when the config has resourceRules, or when a source
        // is asked for: `prometheus` (the config generator's rules if the config has none) or
        // `kubelet` (scraping kubelets like metrics-server, no Prometheus needed).
        let kubelet: KubeletSource | undefined;
        const sourceName = resourceSourceName;
        if (!o.disableResourceMetrics && sourceName !== undefined) {
          let source;
          if (sourceName === "prometheus") {
            const rules = config.resourceRules ?? defaultConfig().resourceRules;
            if (!rules) throw new KcmError("KCM_ERR_USAGE", "no resourceRules to serve");
            source = new PrometheusResourceSource({ prometheus, rules, mapper: nm, log });
          } else {
            const src = new KubeletSource({
              scraper: new KubeletScraper(kube, {
                scheme: o.kubeletScheme,
                port: o.kubeletPort,
                useNodeStatusPort: o.kubeletUseNodeStatusPort,
                preferredAddressTypes: o.kubeletPreferredAddressTypes,
                insecureTls: o.kubeletInsecureTls,
                caFile: o.kubeletCertificateAuthority,
                kubeconfig: o.listerKubeconfig,
                clientCertFile: o.kubeletClientCertificate,
                clientKeyFile: o.kubeletClientKey,
                nodeSelector: o.nodeSelector,
                timeoutMs: o.kubeletRequestTimeout,
              }),
              resolutionMs: o.metricResolution,
              log,
            });
            kubelet = src;
            source = src;
            src.start();
          }
          log.info({ source: sourceName }, "serving metrics.k8s.io");
          groups.push(
            resourceMetricsApi({
              objects: new KubeResourceObjects(kube, podCache),
              source,
              log,
            }),
          );
        }
        void lister.start();
        const handler = createApiHandler({
          groups,
          log,
          ready: () => lister.ready,
          version: { gitVersion: VERSION },
          serverAddress: `:${String(o.insecureHttpPort ?? o.securePort)}`,
          metrics: {
            contentType: metrics.registry.contentType,
            text: () => metrics.registry.metrics(),
          },
          onResponse: (group, verb, code, seconds) => {
            metrics.request(group, verb, code, seconds);
          },
        });
        let shutdown: () => Promise<void>;
        if (o.insecureHttpPort !== undefined) {
          shutdown = await serveInsecure(o.insecureHttpPort, handler, log);
        } else {
          const authClient = new KubeClient({
            kubeconfig: o.authenticationKubeconfig ?? o.listerKubeconfig,
          });
          const authzClient = new KubeClient({
            kubeconfig: o.authorizationKubeconfig ?? o.listerKubeconfig,
          });
          const auth = await DelegatedAuth.create({
            client: {
              json: (method, path, body) =>
                (path.includes("subjectaccessreviews") ? authzClient : authClient).json(
                  method,
                  path,
                  body,
                ),
            },
            authentication: {
              clientCaFile: o.clientCaFile,
              requestheaderClientCaFile: o.requestheaderClientCaFile,
              requestheaderAllowedNames: o.requestheaderAllowedNames,
              requestheaderUsernameHeaders: o.requestheaderUsernameHeaders,
              requestheaderGroupHeaders: o.requestheaderGroupHeaders,
              requestheaderExtraHeadersPrefix: o.requestheaderExtraHeadersPrefix,
              requestheaderUidHeaders: o.requestheaderUidHeaders,
              skipLookup: o.authenticationSkipLookup,
              tolerateLookupFailure: o.authenticationTolerateLookupFailure,
            },
            tokenCacheTtlMs: o.authenticationTokenWebhookCacheTtl,
            alwaysAllowPaths: o.authorizationAlwaysAllowPaths,
            authorizedTtlMs: o.authorizationWebhookCacheAuthorizedTtl,
            unauthorizedTtlMs: o.authorizationWebhookCacheUnauthorizedTtl,
            log,
          });
          const secure = await listenSecure(
            {
              bindAddress: o.bindAddress,
              port: o.securePort,
              certFile: o.tlsCertFile,
              keyFile: o.tlsPrivateKeyFile,
              certDir: o.certDir,
              minVersion,
              ciphers: ciphers.ciphers,
              clientCaPem: () => clientCaPem(auth.config.current()),
              http1Only: o.disableHttp2,
              http2MaxStreamsPerConnection: o.http2MaxStreamsPerConnection,
            },
            authenticated(auth, handler, log, o.authorizationAlwaysAllowPaths, arrivals),
          );
          auth.config.onChange(() => {
            secure.reload();
          });
          log.info(
            { address: o.bindAddress, port: o.securePort, cert: secure.certFile },
            "serving HTTPS",
          );
          shutdown = async () => {
            await secure.shutdown(o.shutdownGracePeriod);
            auth.close();
          };
        }
        // Hot reload of --config: validated first, swapped in whole, discovery rerun at once; a
        // bad file keeps the running config. The set of API groups served is fixed at startup.
        const reload =
          o.config === undefined || configText === undefined || o.disableConfigReload
            ? undefined
            : watchConfig({
                path: o.config,
                initialText: configText,
                log,
                load: (text) => {
                  const found: ConfigIssue[] = [];
                  const next = parseConfig(text, o.config ?? "", loadOptions(found));
                  const rules = compileRules(next, nm);
                  found.push(...rules.pending);
                  if (o.strictConfig && found.length > 0) throw new ConfigError(found);
                  return { next, rules, found };
                },
                apply: async ({ next, rules, found }) => {
                  const groupsChange =
                    custom.length > 0 !== rules.custom.length > 0 ||
                    external.length > 0 !== rules.external.length > 0;
                  if (groupsChange) {
                    throw new Error(
                      "the new config adds or removes all rules of an API group; restart the adapter for that",
                    );
                  }
                  if (JSON.stringify(next.resourceRules) !== JSON.stringify(config.resourceRules)) {
                    log.warn(
                      "config reload: resourceRules changed; they take effect at the next restart",
                    );
                  }
                  for (const w of found) log.warn({ configWarning: true }, formatIssue(w));
                  metrics.configWarnings(found.length);
                  await lister.setRules({
                    custom: o.disableCustomMetrics ? [] : rules.custom,
                    external: o.disableExternalMetrics ? [] : rules.external,
                  });
                },
                onReload: (ok) => {
                  metrics.configReload(ok);
                },
              });
        const onSighup = () => void reload?.reload("SIGHUP");
        if (reload) process.on("SIGHUP", onSighup);
        let stopping = false;
        const stop = () => {
          if (stopping) return;
          stopping = true;
          log.info("shutting down: finishing in-flight requests");
          reload?.close();
          process.off("SIGHUP", onSighup);
          lister.stop();
          kubelet?.stop();
          clearInterval(mapperTimer);
          void shutdown()
            .then(() => {
              // Only after the listener closed: stopping the watch first let a new connection be
              // reset instead of refused (test/adapter-secure.test.ts).
              void podCache?.stop();
              return prometheus.close();
            })
            .finally(() => process.exit(0));
        };
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      })
  );
}
