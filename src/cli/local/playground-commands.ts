/**
 * @module cli/local/playground-commands
 * `local demo`, `adapter`, `watch`, `gauge` and `load`: the playground on a running cluster.
 */
import type { Command } from "@commander-js/extra-typings";
import { KcmError } from "../../errors.ts";
import { DEFAULT_PORT_BASE } from "../../harness/ports.ts";
import {
  KINDS,
  adapterKind,
  cluster,
  int,
  number,
  playground,
  progress,
  stateDirOption,
  workload,
} from "./options.ts";

/** Adds demo, adapter, watch, gauge and load to `local`, in that order. */
export function addPlaygroundCommands(local: Command): void {
  local
    .command("demo")
    .description(
      "the live demo (npm start): cluster, adapter, example HPAs and load, in one view; Ctrl-C tears down",
    )
    .option(...stateDirOption())
    .option(
      "--port-base <n>",
      "loopback ports are derived from this base",
      int(1024, 60000),
      DEFAULT_PORT_BASE,
    )
    .option(
      "--exit-after <seconds>",
      "stop by itself after this many seconds (0: run until Ctrl-C)",
      int(0, 86400),
      0,
    )
    .option("--keep", "leave the cluster running when the demo ends", false)
    .action(async (o) => {
      const { runDemo } = await import("../../harness/demo.ts");
      await runDemo(
        { stateDir: o.stateDir, portBase: o.portBase, exitAfterSeconds: o.exitAfter, keep: o.keep },
        progress,
      );
    });

  local
    .command("adapter")
    .description(
      "swap the adapter registered behind the aggregator of the running cluster (ours, prometheus-adapter, none) or restart it with another config; the rest of the cluster keeps running",
    )
    .option(...stateDirOption())
    .option(
      "--adapter <kind>",
      `${KINDS}; default: the one running now (ours if none runs)`,
      adapterKind,
    )
    .option(
      "--config <file>",
      "its prometheus-adapter config file; default: the one it runs with now (examples/adapter-config.yaml if none); checked first, a bad one changes nothing",
    )
    .option("--show", "only print which adapter serves, with which config", false)
    .addHelpText(
      "after",
      `
Examples:
  k8s-custom-metrics local adapter --config my-adapter-config.yaml     # ours, restarted with this config
  k8s-custom-metrics local adapter --adapter upstream                  # prometheus-adapter v0.12.0, same config
  k8s-custom-metrics local adapter --adapter none                      # unregister: no metrics APIs served
  k8s-custom-metrics local adapter --show
Exit status: 0 once every APIService the config serves is Available; 1 with the error's code and hint.
On a failed start no adapter stays registered (local adapter --show says so).`,
    )
    .action(async (o) => {
      const [{ readClusterInfo }, pg, { DEFAULT_ADAPTER_CONFIG }] = await Promise.all([
        cluster(),
        playground(),
        import("../../harness/adapter-process.ts"),
      ]);
      const info = await readClusterInfo(o.stateDir);
      if (!info) throw new KcmError("KCM_ERR_NOT_RUNNING", `no local cluster in ${o.stateDir}`);
      const now = await pg.readAdapterChoice(o.stateDir);
      if (o.show) {
        process.stdout.write(`${pg.describeChoice(now)}\n`);
        return;
      }
      const kind = o.adapter ?? (now === undefined || now.kind === "none" ? "ours" : now.kind);
      if (kind === "none" && o.config !== undefined) {
        throw new KcmError(
          "KCM_ERR_USAGE",
          "--config goes with --adapter ours or upstream, not none",
        );
      }
      const config =
        kind === "none" ? undefined : (o.config ?? now?.config ?? DEFAULT_ADAPTER_CONFIG);
      const t0 = Date.now();
      const c = await pg.swapAdapter(
        info,
        { kind, ...(config === undefined ? {} : { config }) },
        progress,
      );
      progress(`done in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      process.stdout.write(`${pg.describeChoice(c)}\n`);
    });

  local
    .command("watch")
    .description(
      "live view of every HPA in the running cluster: metric against target in human units, replicas, conditions, with sparklines over time",
    )
    .option(...stateDirOption())
    .option("-n, --namespace <ns>", "only this namespace (default: all)")
    .option("--interval <seconds>", "seconds between redraws", int(1, 300), 2)
    .option(
      "--exit-after <seconds>",
      "stop by itself after this many seconds (0: run until Ctrl-C)",
      int(0, 86400),
      0,
    )
    .option("--pods", "list the pods too", false)
    .addHelpText(
      "after",
      "\nOn a terminal the view redraws in place; piped, each frame follows the last after a `--- <time>` line.",
    )
    .action(async (o) => {
      const { runWatch } = await import("../../harness/playground-watch.ts");
      await runWatch({
        stateDir: o.stateDir,
        ...(o.namespace === undefined ? {} : { namespace: o.namespace }),
        intervalSeconds: o.interval,
        exitAfterSeconds: o.exitAfter,
        pods: o.pods,
      });
    });

  local
    .command("gauge")
    .description(
      "set a gauge of the demo workload (image k8s-custom-metrics/demo-app) so its sum over a Deployment's pods is VALUE: VALUE on the oldest Ready pod, 0 on the others",
    )
    .argument("<name>", "the gauge: queue_depth (the External metric of examples/external)")
    .argument("<value>", "its value (a number, 0 or more)", number(0, 1e12))
    .option(...stateDirOption())
    .option("-n, --namespace <ns>", "the Deployment's namespace", "default")
    .option("--deployment <name>", "the demo-app Deployment", "queue-worker")
    .addHelpText(
      "after",
      `
Example: k8s-custom-metrics local gauge queue_depth 25     # examples/external's HPA (10 per pod) goes to 3 replicas
         k8s-custom-metrics local gauge queue_depth 0      # and back to 1 after its downscale stabilization`,
    )
    .action(async (name, value, o) => {
      const [{ readClusterInfo }, wl] = await Promise.all([cluster(), workload()]);
      const info = await readClusterInfo(o.stateDir);
      if (!info) throw new KcmError("KCM_ERR_NOT_RUNNING", `no local cluster in ${o.stateDir}`);
      const set = await wl.setGauge(info, {
        namespace: o.namespace,
        deployment: o.deployment,
        gauge: name,
        value,
      });
      for (const s of set) {
        process.stdout.write(`${o.namespace}/${s.pod} ${name}=${String(s.value)}\n`);
      }
    });

  local
    .command("load")
    .description(
      "send bounded HTTP load to a Deployment's Ready pods (loopback only): a fixed rate for a fixed time, then it stops by itself",
    )
    .argument("<deployment>", "the Deployment whose pods get the requests")
    .option(...stateDirOption())
    .option("-n, --namespace <ns>", "the Deployment's namespace", "default")
    .option("--rate <n>", "requests per second, round-robin over the pods", number(0.1, 1000), 20)
    .option("--duration <seconds>", "how long; it stops by itself then", int(1, 600), 60)
    .option("--port <n>", "the pods' port", int(1, 65535), 8080)
    .option("--path <path>", "the request path", "/")
    .addHelpText(
      "after",
      `
Example: k8s-custom-metrics local load demo-app --rate 20 --duration 90   # examples/requests-per-second's HPA scales up
Ctrl-C stops it early. Prints the requests sent and failed; exit 0.`,
    )
    .action(async (deployment, o) => {
      const [{ readClusterInfo }, wl] = await Promise.all([cluster(), workload()]);
      const info = await readClusterInfo(o.stateDir);
      if (!info) throw new KcmError("KCM_ERR_NOT_RUNNING", `no local cluster in ${o.stateDir}`);
      if (!o.path.startsWith("/")) {
        throw new KcmError("KCM_ERR_USAGE", `--path ${o.path}: expected a path starting with /`);
      }
      const r = await wl.loadDeployment(
        info,
        {
          namespace: o.namespace,
          deployment,
          ratePerSecond: o.rate,
          durationSeconds: o.duration,
          port: o.port,
          path: o.path,
        },
        progress,
      );
      process.stdout.write(`sent ${String(r.sent)} requests, ${String(r.failed)} failed\n`);
    });
}
