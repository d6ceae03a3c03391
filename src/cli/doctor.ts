/**
 * @module cli/doctor
 * `k8s-custom-metrics doctor`: the cluster-side checklist (aggregation layer, metrics
 * APIServices, group owners, the adapter's certificate, readiness, version and RBAC, failing
 * HPAs), one ✓/✗ line each with the cause and fix of every ✗; exits 1 on any ✗.
 */
import { Command, Option } from "@commander-js/extra-typings";
import { doctorExitCode, formatChecks, formatChecksJson } from "../diagnostics/checks.ts";
import { runDoctor } from "../diagnostics/doctor/run-doctor.ts";
import { kubeconfigPath } from "../diagnostics/kubeconfig-path.ts";
import { KubeClient } from "../kube/client.ts";
import { loadCredentials, type KubeCredentials } from "../kube/kubeconfig.ts";
import { isKcmError, KcmError } from "../errors.ts";
import { duration, namespacedName } from "../server/options/parsers.ts";

export function doctorCommand(): Command {
  return new Command("doctor")
    .description(
      "check the cluster side of the metrics APIs: aggregation layer, APIServices (failures decoded), who owns each metrics group, the adapter's certificate, readiness, version and RBAC, and every HPA whose metric fails; exits 1 on any ✗",
    )
    .option(
      "--kubeconfig <file>",
      "kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)",
    )
    .option("-n, --namespace <namespace>", "check the HPAs of this namespace only (default: all)")
    .option(
      "--adapter-service <namespace/name>",
      "the adapter's Service (default: the one custom.metrics.k8s.io is sent to)",
      namespacedName,
    )
    .option(
      "--adapter-service-account <namespace/name>",
      "the adapter's service account (default: its pods', or the one named like its Service)",
      namespacedName,
    )
    .addOption(
      new Option("--timeout <duration>", "timeout of a direct connection to the adapter")
        .argParser(duration)
        .default(3000, "3s"),
    )
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["text", "json"] as const)
        .default("text" as const),
    )
    .action(async (o) => {
      const kubeconfig = kubeconfigPath(o.kubeconfig);
      let kube: KubeClient;
      let credentials: KubeCredentials;
      try {
        kube = new KubeClient({ kubeconfig, timeoutMs: 10_000 });
        credentials = loadCredentials(kubeconfig);
      } catch (e) {
        // The loader's hint names the adapter's flags; this command has its own.
        if (!isKcmError(e)) throw e;
        throw new KcmError("KCM_ERR_CLUSTER_UNREACHABLE", e.message, { cause: e });
      }
      try {
        const checks = await runDoctor({
          kube,
          credentials,
          namespace: o.namespace,
          adapterService: o.adapterService,
          adapterServiceAccount: o.adapterServiceAccount,
          timeoutMs: o.timeout,
        });
        process.stdout.write(o.output === "json" ? formatChecksJson(checks) : formatChecks(checks));
        process.exitCode = doctorExitCode(checks);
      } finally {
        kube.close();
      }
    });
}
