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
    .action(async (o) => {
      const t0 = Date.now();
      const { up, envLines } = await cluster();
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
      const [{ status }, { componentLine }] = await Promise.all([
        cluster(),
        import("../harness/status-view.ts"),
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
      if (s.info)
        process.stdout.write(`apiserver ${s.info.server}\nprometheus ${s.info.prometheusUrl}\n`);
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
