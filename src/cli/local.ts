/**
 * @module cli/local
 * `k8s-custom-metrics local …`: the local cluster for development, tests and the demo. The
 * subcommands are in `local/`: the cluster's lifecycle, then the playground; `build` and the
 * hidden `node-agent` are here.
 */
import { Command } from "@commander-js/extra-typings";
import { statePaths } from "../harness/paths.ts";
import { KUBE_VERSION, ensureKubeBinaries } from "../harness/kube-binaries.ts";
import { addClusterCommands } from "./local/cluster-commands.ts";
import { addPlaygroundCommands } from "./local/playground-commands.ts";
import { cluster, int, progress, stateDirOption } from "./local/options.ts";

export function localCommand(): Command {
  const local = new Command("local").description(
    "a real local Kubernetes cluster (etcd, kube-apiserver, kube-controller-manager, a node agent that runs pods as processes, Prometheus) on loopback",
  );

  addClusterCommands(local);
  addPlaygroundCommands(local);

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
