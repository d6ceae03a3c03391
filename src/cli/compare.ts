/**
 * @module cli/compare
 * `k8s-custom-metrics compare`: try a config before switching. For every HPA in the cluster, what
 * the metrics APIs the cluster serves now answer (prometheus-adapter, KEDA, metrics-server: whatever
 * is registered) against what this adapter would answer with the given config, and the replicas
 * each would lead to. Exit 0 when all match, 1 when something differs, 2 on usage or connection
 * errors.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { runCompare } from "../compare/compare.ts";
import { buildOurAdapter } from "../compare/our-adapter.ts";
import { formatReport, formatReportJson } from "../compare/report.ts";
import { isConfigError } from "../config/errors.ts";
import { kubeconfigPath } from "../diagnostics/kubeconfig-path.ts";
import { isKcmError, KcmError } from "../errors.ts";
import { KubeApiError, KubeClient } from "../kube/client.ts";
import { createLogger, silentLogger } from "../observability/logger.ts";
import { duration, header } from "../server/options/parsers.ts";

/** Usage and connection errors: kept apart from 1 (something differs) for CI gates. */
const EXIT_ERROR = 2;

function fraction(v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0 || n >= 1) {
    throw new InvalidArgumentError("expected a fraction from 0 to below 1, e.g. 0.05");
  }
  return n;
}

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError("expected a port");
  return n;
}

/** One readable line for anything that stops the comparison. */
function errorLine(e: unknown, kube: KubeClient | undefined): string {
  // Before isKcmError: a ConfigError is a catalog error too, printed here on one line.
  if (isConfigError(e)) return `KCM_ERR_CONFIG: ${e.message.replaceAll("\n", "; ")}`;
  // The kube client's own code names serve's --lister-kubeconfig; here it is --kubeconfig.
  if (isKcmError(e) && e.code === "KCM_ERR_KUBE_UNREACHABLE") {
    return new KcmError("KCM_ERR_CLUSTER_UNREACHABLE", e.message).toLine();
  }
  if (isKcmError(e)) return e.toLine();
  if (e instanceof KubeApiError) {
    return new KcmError("KCM_ERR_CLUSTER_UNREACHABLE", e.message).toLine();
  }
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
    return new KcmError(
      "KCM_ERR_CLUSTER_UNREACHABLE",
      `${kube?.server ?? "the API server"}: ${msg}`,
    ).toLine();
  }
  return `KCM_ERR_USAGE: ${msg}`;
}

export function compareCommand(): Command {
  const cmd = new Command("compare")
    .description(
      "compare, for every HPA in the cluster, what the metrics APIs the cluster serves now answer (through the API server) with what this adapter would answer with --config, and the replicas each leads to; exit 0 when all match, 1 when anything differs, 2 on usage or connection errors",
    )
    .requiredOption("--config <file>", "the prometheus-adapter config to try")
    .requiredOption("--prometheus-url <url>", "the Prometheus our side queries")
    .option(
      "--kubeconfig <file>",
      "kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)",
    )
    .option("-n, --namespace <namespace>", "compare the HPAs of this namespace only (default: all)")
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["text", "json"] as const)
        .default("text" as const),
    )
    .addOption(
      new Option(
        "--tolerance <fraction>",
        "values differing by at most this fraction of the larger are the same (sample timing; see README)",
      )
        .argParser(fraction)
        .default(0.05),
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
        "--metrics-max-age <duration>",
        "series seen within this age are discovered (serve's --metrics-max-age; its default is the 10m relist interval)",
      )
        .argParser(duration)
        .default(600_000, "10m"),
    )
    .addOption(
      new Option(
        "--resource-metrics-source <source>",
        "where our metrics.k8s.io answers come from, as serve's flag (default: prometheus when the config has resourceRules, else Resource metrics are not compared)",
      ).choices(["prometheus", "kubelet", "none"] as const),
    )
    .addOption(
      new Option("--kubelet-scheme <scheme>", "kubelet source: scheme (http: loopback only)")
        .choices(["https", "http"] as const)
        .default("https" as const),
    )
    .option("--kubelet-port <port>", "kubelet source: kubelet port", port, 10250)
    .option(
      "--kubelet-use-node-status-port",
      "kubelet source: use the port in node.status.daemonEndpoints.kubeletEndpoint",
      false,
    )
    .option("--kubelet-insecure-tls", "kubelet source: do not verify kubelet certificates", false)
    .option(
      "--kubelet-certificate-authority <file>",
      "kubelet source: CA bundle for kubelet serving certificates",
    )
    .addOption(
      new Option(
        "--metric-resolution <duration>",
        "kubelet source: time between the two scrapes a rate needs",
      )
        .argParser(duration)
        .default(10_000, "10s"),
    )
    .option("--v <level>", "log verbosity of our side, to stderr (default: no logs)")
    .action(async (o) => {
      const kubeconfig = kubeconfigPath(o.kubeconfig);
      let kube: KubeClient | undefined;
      let exitCode = EXIT_ERROR;
      let ours;
      try {
        kube = new KubeClient({ kubeconfig, timeoutMs: 20_000 });
        const log =
          o.v === undefined ? silentLogger() : createLogger(Number(o.v) || 0, process.stderr);
        ours = await buildOurAdapter({
          config: o.config,
          kube,
          kubeconfig,
          prometheus: {
            url: o.prometheusUrl,
            headers: o.prometheusHeader,
            timeoutMs: o.prometheusTimeout,
            bearerTokenFile: o.prometheusTokenFile,
            caFile: o.prometheusCaFile,
            clientCertFile: o.prometheusClientTlsCertFile,
            clientKeyFile: o.prometheusClientTlsKeyFile,
          },
          maxAgeMs: o.metricsMaxAge,
          resourceSource: o.resourceMetricsSource,
          kubelet: {
            scheme: o.kubeletScheme,
            port: o.kubeletPort,
            useNodeStatusPort: o.kubeletUseNodeStatusPort,
            insecureTls: o.kubeletInsecureTls,
            caFile: o.kubeletCertificateAuthority,
            resolutionMs: o.metricResolution,
          },
          log,
        });
        for (const w of ours.warnings) process.stderr.write(`warning: ${w}\n`);
        const report = await runCompare({
          kube,
          ours,
          tolerance: o.tolerance,
          namespace: o.namespace,
        });
        process.stdout.write(o.output === "json" ? formatReportJson(report) : formatReport(report));
        exitCode = report.match ? 0 : 1;
      } catch (e) {
        process.stderr.write(`error: ${errorLine(e, kube)}\n`);
      } finally {
        await ours?.close().catch(() => undefined);
        kube?.close();
      }
      process.exit(exitCode);
    });
  // Commander's own usage errors (a missing --config, a bad value) exit 2 too; help exits 0.
  // (Commander has already printed its one line.)
  cmd.exitOverride((e: CommanderError) => process.exit(e.exitCode === 0 ? 0 : EXIT_ERROR));
  return cmd;
}
