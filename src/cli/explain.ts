/**
 * @module cli/explain
 * `k8s-custom-metrics explain hpa NS/NAME` and `explain metric METRIC`: walk the chain from an
 * HPA (or one raw metrics request) to Prometheus and back, stop at the first broken link, name
 * its cause and fix; a ✓/✗ tree or JSON; exit 1 when a link is broken.
 */
import {
  Command,
  InvalidArgumentError,
  Option,
  type OptionValues,
} from "@commander-js/extra-typings";
import { parseConfig, readConfigText } from "../config/load.ts";
import type { AdapterConfig } from "../config/schema.ts";
import { ConfigDocument } from "../diagnostics/config-document.ts";
import { runExplain } from "../diagnostics/explain/explainer.ts";
import {
  explainExitCode,
  formatExplain,
  formatExplainJson,
} from "../diagnostics/explain/report.ts";
import type { ExplainOptions, ExplainTarget } from "../diagnostics/explain/types.ts";
import { kubeconfigPath } from "../diagnostics/kubeconfig-path.ts";
import { isKcmError, KcmError } from "../errors.ts";
import { KubeClient } from "../kube/client.ts";
import { PrometheusClient } from "../prometheus/client.ts";
import type { PrometheusClientOptions } from "../prometheus/options.ts";
import { checkTemplate } from "../providers/prometheus/rules.ts";
import { duration, header, namespacedName } from "../server/options/parsers.ts";

interface Common {
  kubeconfig?: string | undefined;
  config?: string | undefined;
  prometheusUrl?: string | undefined;
  prometheusHeader: Record<string, string>;
  prometheusTokenFile?: string | undefined;
  prometheusCaFile?: string | undefined;
  prometheusClientTlsCertFile?: string | undefined;
  prometheusClientTlsKeyFile?: string | undefined;
  metricsMaxAge: number;
  tolerance: number;
  output: "text" | "json";
}

/** Adds the options both forms take (to each, so `--help` lists them there), keeping their types. */
function withCommonOptions<Args extends unknown[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
) {
  return command
    .addOption(
      new Option(
        "--kubeconfig <file>",
        "kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)",
      ),
    )
    .addOption(
      new Option(
        "--config <file>",
        "the adapter's config, to name the rule that gives the metric, or why none does",
      ),
    )
    .addOption(
      new Option(
        "--prometheus-url <url>",
        "the Prometheus the adapter asks, to run the rendered query (e.g. after kubectl port-forward)",
      ),
    )
    .addOption(
      new Option(
        "--prometheus-header <name=value>",
        "header added to every Prometheus request (repeatable)",
      )
        .argParser(header)
        .default({}),
    )
    .addOption(new Option("--prometheus-token-file <file>", "bearer token for Prometheus"))
    .addOption(
      new Option("--prometheus-ca-file <file>", "CA bundle that signs Prometheus' certificate"),
    )
    .addOption(
      new Option("--prometheus-client-tls-cert-file <file>", "client certificate for Prometheus"),
    )
    .addOption(new Option("--prometheus-client-tls-key-file <file>", "client key for Prometheus"))
    .addOption(
      new Option("--metrics-max-age <duration>", "only series seen within this age count")
        .argParser(duration)
        .default(600_000, "10m"),
    )
    .addOption(
      new Option(
        "--tolerance <ratio>",
        "the HPA controller's --horizontal-pod-autoscaler-tolerance",
      )
        .argParser((v) => {
          const n = Number(v);
          if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a ratio ≥ 0");
          return n;
        })
        .default(0.1),
    )
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["text", "json"])
        .default("text"),
    );
}

async function loadConfig(file: string): Promise<{ config: AdapterConfig; doc: ConfigDocument }> {
  // A file that does not read or load stops explain as it stops serve: KCM_ERR_CONFIG, one
  // file:line:col line per problem.
  const text = await readConfigText(file);
  const config = parseConfig(text, file, { compileTemplate: checkTemplate });
  return { config, doc: new ConfigDocument(text, file) };
}

async function run(o: Common, target: ExplainTarget): Promise<void> {
  const kubeconfig = kubeconfigPath(o.kubeconfig);
  let kube: KubeClient;
  try {
    kube = new KubeClient({ kubeconfig, timeoutMs: 15_000 });
  } catch (e) {
    if (!isKcmError(e)) throw e;
    throw new KcmError("KCM_ERR_CLUSTER_UNREACHABLE", e.message, { cause: e });
  }
  const config = o.config === undefined ? undefined : await loadConfig(o.config);
  const promOptions: PrometheusClientOptions | undefined =
    o.prometheusUrl === undefined
      ? undefined
      : {
          url: o.prometheusUrl,
          headers: o.prometheusHeader,
          timeoutMs: 5000,
          coalesceWindowMs: 0,
          ...(o.prometheusTokenFile ? { bearerTokenFile: o.prometheusTokenFile } : {}),
          ...(o.prometheusCaFile ? { caFile: o.prometheusCaFile } : {}),
          ...(o.prometheusClientTlsCertFile
            ? { clientCertFile: o.prometheusClientTlsCertFile }
            : {}),
          ...(o.prometheusClientTlsKeyFile ? { clientKeyFile: o.prometheusClientTlsKeyFile } : {}),
        };
  const prometheus = promOptions ? await PrometheusClient.create(promOptions) : undefined;
  try {
    try {
      await kube.json("GET", "/version");
    } catch (e) {
      throw new KcmError(
        "KCM_ERR_CLUSTER_UNREACHABLE",
        `cannot reach the API server at ${kube.server}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
    const opts: ExplainOptions = {
      kube,
      prometheus,
      prometheusOptions: promOptions,
      config,
      maxAgeMs: o.metricsMaxAge,
      tolerance: o.tolerance,
    };
    const report = await runExplain(opts, target);
    process.stdout.write(o.output === "json" ? formatExplainJson(report) : formatExplain(report));
    process.exitCode = explainExitCode(report);
  } finally {
    kube.close();
    await prometheus?.close();
  }
}

export function explainCommand(): Command {
  const explain = new Command("explain").description(
    "walk the chain from an HPA (or one metrics request) to Prometheus and back: HPA spec and scale target, APIService, the metric in the adapter's discovery, the rule that gives it, the objects, the rendered PromQL and its result, the adapter's answer, the HPA controller's computation; stops at the first broken link and names its cause and fix; exits 1 when a link is broken",
  );
  const hpa = withCommonOptions(
    new Command("hpa")
      .description("explain a HorizontalPodAutoscaler: every metric it scales on, and its status")
      .argument("<namespace/name>", "the HPA", namespacedName),
  ).action(async (ref, o) => {
    await run(o, { kind: "hpa", namespace: ref.namespace, name: ref.name });
  });
  const metric = withCommonOptions(
    new Command("metric")
      .description(
        "explain one raw request: a custom metric of pods (default), of one object or of a namespace, or an external metric",
      )
      .argument("<metric>", "the metric name")
      .option("-n, --namespace <namespace>", "namespace of the request", "default")
      .option(
        "--for <resource[/name]>",
        "custom metrics: the objects, e.g. pods (all, or those of -l), pods/web-1, deployments.apps/web, namespaces/NS",
        "pods",
      )
      .option(
        "-l, --selector <selector>",
        "label selector of the objects (external: of the series)",
      )
      .option("--metric-selector <selector>", "custom metrics: metricLabelSelector")
      .option("--external", "an external metric (external.metrics.k8s.io)", false),
  ).action(async (name, o) => {
    const [resource = "pods", ...object] = o.for.split("/");
    await run(o, {
      kind: "metric",
      metric: name,
      namespace: o.namespace,
      resource,
      object: object.length > 0 ? object.join("/") : undefined,
      external: o.external,
      labelSelector: o.selector,
      metricSelector: o.metricSelector,
    });
  });
  explain.addCommand(hpa);
  explain.addCommand(metric);
  return explain;
}
