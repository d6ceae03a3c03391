/**
 * @module cli/local
 * `k8s-custom-metrics local …`: the local cluster for development, tests and the demo.
 */
import { Command, InvalidArgumentError } from "@commander-js/extra-typings";
import { KcmError } from "../errors.ts";
import { defaultStateDir, statePaths } from "../harness/paths.ts";
import { DEFAULT_PORT_BASE } from "../harness/ports.ts";
import { KUBE_VERSION, ensureKubeBinaries } from "../harness/kube-binaries.ts";

// The harness (and @kubernetes/client-node, which the node agent uses) loads only when a
// `local` command runs, so `serve` starts without it.
const cluster = () => import("../harness/cluster.ts");
const playground = () => import("../harness/playground.ts");

const KINDS =
  "ours (k8s-custom-metrics), upstream (prometheus-adapter v0.12.0, built from source once and cached) or none";

function adapterKind(v: string): "ours" | "upstream" | "none" {
  if (v === "ours" || v === "upstream" || v === "none") return v;
  throw new InvalidArgumentError("expected ours, upstream or none");
}

function number(min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a number from ${String(min)} to ${String(max)}`);
    }
    return n;
  };
}

/**
 * `--adapter` and `--config` of `local up`: `--config` alone means ours; an adapter without a
 * config takes examples/adapter-config.yaml. Refused as KCM_ERR_USAGE before anything starts.
 */
function upAdapterChoice(
  adapter: "ours" | "upstream" | "none" | undefined,
  config: string | undefined,
  defaultConfig: string,
): { kind: "ours" | "upstream" | "none"; config?: string } {
  if (adapter === "none" && config !== undefined) {
    throw new KcmError("KCM_ERR_USAGE", "--config goes with --adapter ours or upstream, not none");
  }
  const kind = adapter ?? (config === undefined ? "none" : "ours");
  return kind === "none" ? { kind } : { kind, config: config ?? defaultConfig };
}

function int(min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `expected a whole number from ${String(min)} to ${String(max)}`,
      );
    }
    return n;
  };
}

const progress = (line: string) => {
  process.stderr.write(`${line}\n`);
};

function stateDirOption() {
  return [
    "--state-dir <dir>",
    "folder for the cluster's PKI, data, logs and pids",
    defaultStateDir(),
  ] as const;
}

export function localCommand(): Command {
  const local = new Command("local").description(
    "a real local Kubernetes cluster (etcd, kube-apiserver, kube-controller-manager, a node agent that runs pods as processes, Prometheus) on loopback",
  );

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
    .option("--scrape-interval <seconds>", "Prometheus scrape interval", int(1, 60), 5)
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
        import("../harness/adapter-process.ts"),
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
        import("../harness/status-view.ts"),
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
      const { runDemo } = await import("../harness/demo.ts");
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
        import("../harness/adapter-process.ts"),
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
      const { runWatch } = await import("../harness/playground-watch.ts");
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
      const [{ readClusterInfo }, pg] = await Promise.all([cluster(), playground()]);
      const info = await readClusterInfo(o.stateDir);
      if (!info) throw new KcmError("KCM_ERR_NOT_RUNNING", `no local cluster in ${o.stateDir}`);
      const set = await pg.setGauge(info, {
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
      const [{ readClusterInfo }, pg] = await Promise.all([cluster(), playground()]);
      const info = await readClusterInfo(o.stateDir);
      if (!info) throw new KcmError("KCM_ERR_NOT_RUNNING", `no local cluster in ${o.stateDir}`);
      if (!o.path.startsWith("/")) {
        throw new KcmError("KCM_ERR_USAGE", `--path ${o.path}: expected a path starting with /`);
      }
      const r = await pg.loadDeployment(
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

  local
    .command("build")
    .description(
      `build and cache kube-apiserver and kube-controller-manager ${KUBE_VERSION} (local up does this when needed)`,
    )
    .action(async () => {
      const b = await ensureKubeBinaries(progress);
      process.stdout.write(`${Object.values(b.paths).join("\n")}\n`);
    });

  local
    .command("node-agent", { hidden: true })
    .description("run the local node agent (started by local up)")
    .option(...stateDirOption())
    .option("--node-name <name>", "node name", "local-node")
    .requiredOption("--port <n>", "metrics and health port on 127.0.0.1", int(1, 65535))
    .option("--pod-network <a.b>", "pod IPs are a.b.x.y (a /16 in 127.0.0.0/8)", "127.1")
    .action(async (o) => {
      const [{ pino }, { NodeAgent }, { readClusterInfo }] = await Promise.all([
        import("pino"),
        import("../harness/node-agent/agent.ts"),
        cluster(),
      ]);
      const log = pino({ base: { component: "node-agent" } });
      const p = statePaths(o.stateDir);
      const info = await readClusterInfo(o.stateDir);
      const agent = new NodeAgent({
        kubeconfig: p.adminKubeconfig,
        nodeName: o.nodeName,
        port: o.port,
        podsDir: p.pods,
        podTargetsFile: p.podTargetsFile,
        podNetwork: o.podNetwork,
        kubeletVersion: info?.kubernetesVersion ?? KUBE_VERSION,
        log: (msg, fields) => {
          log.info(fields ?? {}, msg);
        },
      });
      await agent.start();
      log.info({ port: o.port }, "node agent ready");
      const stop = () => {
        void agent.stop().then(() => process.exit(0));
      };
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    });

  return local;
}
