/**
 * @module cli/validate
 * `k8s-custom-metrics validate`: a prometheus-adapter config checked as the adapter would load
 * it, every problem with `file:line:col`, and with `--prometheus-url` each rule run against
 * Prometheus. Exit code: 0 clean, 1 warnings only under `--strict`, 2 errors.
 */
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { exitCodeFor } from "../diagnostics/findings.ts";
import { formatValidateJson, formatValidateText } from "../diagnostics/format-validate.ts";
import { runValidate } from "../diagnostics/validate.ts";
import { duration, header } from "../server/options/parsers.ts";

function positiveInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError("expected a positive integer");
  }
  return n;
}

/** What `validate` exits with when it cannot check: a usage error, a failure (as an error). */
const VALIDATE_EXIT_ERROR = 2;

export function validateCommand(): Command {
  const cmd = new Command("validate")
    .description(
      "check a prometheus-adapter config: every problem with file:line:col and its fix; with --prometheus-url, run each rule against Prometheus (series, metrics, resources, one query per metric for a real object); exit 0 clean, 1 warnings with --strict, 2 errors",
    )
    .requiredOption("--config <file>", "prometheus-adapter configuration file")
    .option("--prometheus-url <url>", "run the rules against this Prometheus (or compatible) API")
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
      "--kubeconfig <file>",
      "map labels to resources with this cluster's REST mapping (custom resources); default: built-in resources",
    )
    .option("--strict", "exit 1 when there are warnings (and no errors)", false)
    .addOption(
      new Option(
        "--scrape-interval <duration>",
        "offline: the scrape interval rate windows are checked against (default: Prometheus' 1m)",
      ).argParser(duration),
    )
    .addOption(
      new Option("--metrics-max-age <duration>", "only series seen within this age count")
        .argParser(duration)
        .default(600_000, "10m"),
    )
    .addOption(
      new Option("--max-queries-per-rule <n>", "example queries run per rule, at most")
        .argParser(positiveInt)
        .default(25),
    )
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["text", "json"] as const)
        .default("text" as const),
    )
    .action(async (o) => {
      const report = await runValidate({
        configPath: o.config,
        prometheus:
          o.prometheusUrl === undefined
            ? undefined
            : {
                url: o.prometheusUrl,
                headers: o.prometheusHeader,
                ...(o.prometheusTokenFile ? { bearerTokenFile: o.prometheusTokenFile } : {}),
                ...(o.prometheusCaFile ? { caFile: o.prometheusCaFile } : {}),
                ...(o.prometheusClientTlsCertFile
                  ? { clientCertFile: o.prometheusClientTlsCertFile }
                  : {}),
                ...(o.prometheusClientTlsKeyFile
                  ? { clientKeyFile: o.prometheusClientTlsKeyFile }
                  : {}),
              },
        kubeconfig: o.kubeconfig,
        scrapeIntervalMs: o.scrapeInterval,
        maxAgeMs: o.metricsMaxAge,
        maxQueriesPerRule: o.maxQueriesPerRule,
      });
      const code = exitCodeFor(report.findings, o.strict);
      process.stdout.write(
        o.output === "json" ? formatValidateJson(report, code) : formatValidateText(report),
      );
      process.exitCode = code;
    });
  // Commander's usage errors (a missing --config, an unknown flag) must not read as "warnings
  // under --strict" (1); help exits 0. Commander has printed its one line.
  cmd.exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : VALIDATE_EXIT_ERROR));
  return cmd;
}
