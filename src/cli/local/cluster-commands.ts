/**
 * @module cli/local/cluster-commands
 * `local up`, `down`, `status` and `env`: the local cluster's lifecycle.
 */
import { Option, type Command } from "@commander-js/extra-typings";
import { KcmError } from "../../errors.ts";
import { DEFAULT_PORT_BASE } from "../../harness/ports.ts";
import {
  KINDS,
  adapterKind,
  cluster,
  int,
  playground,
  progress,
  seconds,
  stateDirOption,
  upAdapterChoice,
} from "./options.ts";

/** Adds up, down, status and env to `local`, in that order. */
export function addClusterCommands(local: Command): void {
  local
    .command("up")
    .description(
      "build (first run only) and start the local cluster; returns when every part is ready",
    )
    .option(...stateDirOption())
    .option(
      "--port-base <n>",
      "loopback ports are derived from this base (apiserver = base+443)",
      int(1024, 60000),
      DEFAULT_PORT_BASE,
    )
    .option("--node-name <name>", "name of the local Node", "local-node")
    .option(
      "--hpa-sync-period <seconds>",
      "kube-controller-manager HPA sync period",
      int(1, 300),
      15,
    )
    .option(
      "--hpa-downscale-stabilization <seconds>",
      "kube-controller-manager HPA downscale stabilization window",
      int(0, 3600),
      300,
    )
    .addOption(
      new Option("--scrape-interval <duration>", "Prometheus scrape interval (5s, or 5)")
        .argParser(seconds(1, 60))
        .default(5, "5s"),
    )
    .option(
      "--adapter <kind>",
      `the adapter registered behind the aggregator once the cluster is up: ${KINDS}; default none, or ours when --config is given`,
      adapterKind,
    )
    .option(
      "--config <file>",
      "the adapter's prometheus-adapter config file (default with --adapter: examples/adapter-config.yaml); checked before the cluster starts",
    )
    .addHelpText(
      "after",
      `
Examples:
  k8s-custom-metrics local up                                          # the cluster alone, no adapter (as before)
  k8s-custom-metrics local up --config my-adapter-config.yaml          # and k8s-custom-metrics with your config
  k8s-custom-metrics local up --adapter upstream --config my.yaml      # and prometheus-adapter v0.12.0 instead
Swap it later without taking the cluster down: k8s-custom-metrics local adapter --help`,
    )
    .action(async (o) => {
      const t0 = Date.now();
      const [{ up, envLines }, pg, { DEFAULT_ADAPTER_CONFIG }] = await Promise.all([
        cluster(),
        playground(),
        import("../../harness/adapter-process.ts"),
      ]);
      const choice = upAdapterChoice(o.adapter, o.config, DEFAULT_ADAPTER_CONFIG);
      // A bad config (or a failing upstream build) stops here, before anything starts.
      if (choice.config !== undefined) await pg.checkConfig(choice.config);
      if (choice.kind === "upstream") await pg.ensureUpstreamBinary(progress);
      const info = await up(
        {
          stateDir: o.stateDir,
          portBase: o.portBase,
          nodeName: o.nodeName,
          hpaSyncPeriodSeconds: o.hpaSyncPeriod,
          hpaDownscaleStabilizationSeconds: o.hpaDownscaleStabilization,
          scrapeIntervalSeconds: o.scrapeInterval,
        },
        progress,
      );
      progress(
        `local cluster (Kubernetes ${info.kubernetesVersion}) is up in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
      );
      await pg.clearAdapterChoice(o.stateDir);
      if (choice.kind !== "none") {
        try {
          progress(pg.describeChoice(await pg.swapAdapter(info, choice, progress)));
        } catch (e) {
          progress(
            `the cluster stays up without an adapter: try again with local adapter, or stop it with local down --state-dir ${o.stateDir}`,
          );
          throw e;
        }
      }
      process.stdout.write(`${envLines(info).join("\n")}\n`);
    });

  local
    .command("down")
    .description("stop every process of the local cluster, pods included")
    .option(...stateDirOption())
    .action(async (o) => {
      const { down } = await cluster();
      await down(o.stateDir, progress);
    });

  local
    .command("status")
    .description(
      "show the cluster's components, whether each runs, their restarts and last exit, and where the logs are",
    )
    .option(...stateDirOption())
    .option("-o, --output <format>", "text or json", "text")
    .action(async (o) => {
      const [{ status }, { componentLine }, pg] = await Promise.all([
        cluster(),
        import("../../harness/status-view.ts"),
        playground(),
      ]);
      const s = await status(o.stateDir);
      if (o.output === "json") {
        process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        return;
      }
      if (s.components.length === 0) {
        process.stdout.write(`no local cluster in ${o.stateDir}\nlogs: ${s.logs}\n`);
        process.exitCode = 3;
        return;
      }
      const now = Date.now();
      for (const c of s.components) process.stdout.write(`${componentLine(c, now)}\n`);
      if (s.info) {
        process.stdout.write(`apiserver ${s.info.server}\nprometheus ${s.info.prometheusUrl}\n`);
        process.stdout.write(`${pg.describeChoice(await pg.readAdapterChoice(o.stateDir))}\n`);
      }
      process.stdout.write(`logs: ${s.logs}\n`);
      if (s.components.some((c) => !c.alive)) process.exitCode = 1;
    });

  local
    .command("env")
    .description(
      'print shell exports for the running cluster: eval "$(k8s-custom-metrics local env)"',
    )
    .option(...stateDirOption())
    .action(async (o) => {
      const { readClusterInfo, envLines } = await cluster();
      const info = await readClusterInfo(o.stateDir);
      if (!info) throw new KcmError("KCM_ERR_NOT_RUNNING", `no local cluster in ${o.stateDir}`);
      process.stdout.write(`${envLines(info).join("\n")}\n`);
    });
}
