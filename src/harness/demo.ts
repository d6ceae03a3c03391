/**
 * @module harness/demo
 * `local demo` (npm start): the whole loop live on one machine. Brings up the local cluster, the
 * adapter behind the aggregator and the example workloads with their HPAs, drives bounded load on
 * loopback, and redraws a live view until Ctrl-C (or `exitAfterSeconds`), then tears down.
 */
import { execFile, execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { KcmError } from "../errors.ts";
import { KubeClient } from "../kube/client.ts";
import { startAdapter } from "./adapter-process.ts";
import { down, readClusterInfo, up } from "./cluster.ts";
import {
  hpaSnapshot,
  recordHistory,
  renderDemo,
  type History,
  type HpaJson,
  type HpaSnapshot,
  type PodSnapshot,
} from "./demo-view.ts";
import type { Progress } from "./kube-binaries.ts";
import { startLoad, type LoadRun } from "./load.ts";

const exec = promisify(execFile);
const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

export interface DemoOptions {
  readonly stateDir: string;
  readonly portBase: number;
  /** Stop by itself after this many seconds (0: run until Ctrl-C). */
  readonly exitAfterSeconds: number;
  /** Keep the cluster running when the demo ends. */
  readonly keep: boolean;
}

const PREREQS: readonly [cmd: string, install: string][] = [
  ["go", "Go 1.26+ (https://go.dev/dl/)"],
  ["kubectl", "kubectl (https://kubernetes.io/docs/tasks/tools/)"],
  ["etcd", "apt-get install -y etcd-server"],
  ["prometheus", "apt-get install -y prometheus"],
  ["nginx", "apt-get install -y nginx-light"],
];

/** What is missing, one line each; empty when all is there. */
export function missingPrerequisites(): string[] {
  return PREREQS.filter(([cmd]) => {
    try {
      execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  }).map(([cmd, how]) => `${cmd}: ${how}`);
}

export interface PodJson {
  metadata: { namespace: string; name: string; labels?: Record<string, string> };
  status: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
  };
}

/**
 * One read of the cluster for the live views: every HPA (of `namespace`, or all) and every pod.
 * A failed read is an empty list: the view keeps redrawing while the API server restarts.
 */
export async function pollCluster(
  api: KubeClient,
  namespace?: string,
): Promise<{ hpas: HpaSnapshot[]; pods: PodJson[] }> {
  const ns = namespace === undefined ? "" : `/namespaces/${encodeURIComponent(namespace)}`;
  const [hpas, pods] = await Promise.all([
    api
      .json<{ items: HpaJson[] }>("GET", `/apis/autoscaling/v2${ns}/horizontalpodautoscalers`)
      .catch(() => ({ items: [] })),
    api.json<{ items: PodJson[] }>("GET", `/api/v1${ns}/pods`).catch(() => ({ items: [] })),
  ]);
  return { hpas: hpas.items.map(hpaSnapshot), pods: pods.items };
}

export function podSnapshots(pods: readonly PodJson[]): PodSnapshot[] {
  return pods.map((p) => ({
    namespace: p.metadata.namespace,
    name: p.metadata.name,
    phase: p.status.phase ?? "",
    ready: p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    ip: p.status.podIP ?? "",
  }));
}

/** The queue-depth scenario: set on one queue-worker pod; the External metric sums all pods. */
const QUEUE_AT_S = 45;
const QUEUE_FOR_S = 120;
const QUEUE_DEPTH = 25;

/**
 * Keeps `queue_depth` at a value on one queue-worker pod (the first Ready one; another if that
 * one goes away), so the External HPA (target 10 per pod) moves: 25 → 3 replicas, 0 → 1.
 */
class QueueDriver {
  readonly #ips: () => readonly string[];
  #at: string | undefined;
  #depth: number | undefined;
  cleared = false;

  constructor(ips: () => readonly string[]) {
    this.#ips = ips;
  }

  async #put(ip: string, depth: number): Promise<boolean> {
    try {
      const res = await fetch(`http://${ip}:8080/queue?depth=${String(depth)}`, {
        method: "PUT",
        signal: AbortSignal.timeout(2000),
      });
      return res.ok;
    } catch {
      return false;
    }
  }

  /** Once per view refresh: (re)sets the depth where needed. */
  async tick(depth: number): Promise<void> {
    const ips = this.#ips();
    if (this.#at !== undefined && !ips.includes(this.#at)) this.#at = undefined;
    if (this.#at !== undefined && this.#depth === depth) return;
    const ip = this.#at ?? ips[0];
    if (ip === undefined) return;
    if (await this.#put(ip, depth)) {
      this.#at = ip;
      this.#depth = depth;
      this.cleared = depth === 0;
    }
  }

  /** Back to 0 when the demo ends early with `--keep` (the cluster lives on). */
  async stop(): Promise<void> {
    if (this.#at !== undefined && this.#depth !== 0) await this.#put(this.#at, 0);
  }
}

/** Whether a stream can still be written to; its EPIPE no longer ends the process. */
export function guardOutput(stream: NodeJS.WriteStream): { open: () => boolean } {
  let open = true;
  stream.removeAllListeners("error");
  stream.on("error", () => {
    open = false;
  });
  return { open: () => open && !stream.destroyed && stream.writable };
}

export async function runDemo(o: DemoOptions, progress: Progress): Promise<void> {
  // `npm start | tee log`, then Ctrl-C: tee is gone before the teardown writes its first line.
  // The CLI ends the process on EPIPE (src/cli/main.ts), which here would leave the cluster
  // running; instead a closed output is only stopped being written to.
  const out = guardOutput(process.stdout);
  const err = guardOutput(process.stderr);
  const say: Progress = (line) => {
    if (err.open()) progress(line);
  };
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    throw new KcmError(
      "KCM_ERR_PREREQ_MISSING",
      `missing: ${missing.join("; ")} (or run: bash scripts/prereqs.sh)`,
    );
  }
  const t0 = Date.now();
  let info = await readClusterInfo(o.stateDir);
  if (!info) {
    info = await up(
      {
        stateDir: o.stateDir,
        portBase: o.portBase,
        nodeName: "local-node",
        hpaSyncPeriodSeconds: 5,
        hpaDownscaleStabilizationSeconds: 30,
        scrapeIntervalSeconds: 2,
      },
      say,
    );
  } else {
    say(`reusing the local cluster in ${info.stateDir}`);
  }
  const cluster = info;
  // The live view polls the API directly; kubectl is only used to apply the examples.
  const api = new KubeClient({ kubeconfig: cluster.kubeconfig });
  let load: LoadRun | undefined;
  let queue: QueueDriver | undefined;
  // One teardown, whatever asks for it (Ctrl-C, `npm start`'s SIGTERM after it, the end of the
  // loop); a second signal waits for the same one instead of cutting it short.
  let stopped: Promise<void> | undefined;
  const teardown = (): Promise<void> =>
    (stopped ??= (async () => {
      load?.stop();
      await queue?.stop();
      api.close();
      if (o.keep) {
        say(
          `the local cluster keeps running; stop it with: k8s-custom-metrics local down --state-dir ${cluster.stateDir}`,
        );
        return;
      }
      say("stopping the local cluster…");
      await down(cluster.stateDir, say);
    })());
  const onSignal = () => {
    void teardown().then(() => process.exit(0));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    say("starting the adapter behind the aggregator…");
    await startAdapter(cluster);
    say("applying the examples (seed nginx HPA, requests-per-second HPA, External queue HPA)…");
    for (const f of [
      "seed/nginx.yaml",
      "requests-per-second/demo-app.yaml",
      "external/queue-worker.yaml",
    ]) {
      await exec("kubectl", [
        `--kubeconfig=${cluster.kubeconfig}`,
        "apply",
        "-f",
        join(REPO_ROOT, "examples", f),
      ]);
    }
    say(`ready in ${String(Math.round((Date.now() - t0) / 1000))}s; live view follows`);
    const history: History = new Map();
    const started = Date.now();
    let loadState =
      "starts 30s after the demo comes up: 20 requests/s to the demo-app pods for 90s";
    let podIps: string[] = [];
    let queueIps: string[] = [];
    const hints = [
      `export KUBECONFIG=${cluster.kubeconfig}`,
      "kubectl get hpa -w",
      'kubectl get --raw "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/memory_usage_bytes?labelSelector=app%3Dnginx"',
      'kubectl get --raw "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth"',
      "kubectl get apiservices | grep metrics",
      `Prometheus: ${cluster.prometheusUrl}/graph?g0.expr=memory_usage_bytes`,
      `queue depth by hand: k8s-custom-metrics local gauge queue_depth 25 --state-dir ${cluster.stateDir}`,
    ];
    let queueState = `queue depth ${String(QUEUE_DEPTH)} from ${String(QUEUE_AT_S)}s for ${String(QUEUE_FOR_S)}s (the External HPA's target is 10 per pod)`;
    for (;;) {
      if (stopped) break;
      const elapsed = (Date.now() - started) / 1000;
      if (o.exitAfterSeconds > 0 && elapsed > o.exitAfterSeconds) break;
      if (!queue && elapsed > QUEUE_AT_S) {
        queue = new QueueDriver(() => queueIps);
        queueState = `queue depth ${String(QUEUE_DEPTH)} for ${String(QUEUE_FOR_S)}s: queue-worker scales to 3`;
      }
      if (queue && !queue.cleared && elapsed > QUEUE_AT_S + QUEUE_FOR_S) {
        queueState =
          "queue drained (depth 0): queue-worker scales down after its stabilization window";
      }
      await queue?.tick(elapsed > QUEUE_AT_S + QUEUE_FOR_S ? 0 : QUEUE_DEPTH);
      if (!load && elapsed > 30) {
        load = startLoad({
          urls: () => podIps.map((ip) => `http://${ip}:8080/`),
          ratePerSecond: 20,
          durationMs: 90_000,
        });
        loadState = "20 requests/s to the demo-app pods for 90s";
        void load.done.then(() => {
          loadState = `stopped after ${String(load?.sent() ?? 0)} requests; demo-app scales down after its 30s stabilization window`;
        });
      }
      const { hpas: snaps, pods } = await pollCluster(api);
      const ips = (app: string) =>
        pods
          .filter(
            (p) =>
              p.metadata.labels?.["app"] === app &&
              p.status.podIP &&
              p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
          )
          .map((p) => p.status.podIP ?? "");
      podIps = ips("demo-app");
      queueIps = ips("queue-worker");
      recordHistory(history, snaps);
      const podSnaps = podSnapshots(pods);
      const text = renderDemo({
        kubernetesVersion: cluster.kubernetesVersion,
        elapsedSeconds: elapsed,
        hpas: snaps,
        history,
        pods: podSnaps,
        hints,
        load: `${loadState}\n     ${queueState}`,
      });
      if (out.open()) {
        if (process.stdout.isTTY) process.stdout.write(`\x1b[2J\x1b[H${text}\n`);
        else process.stdout.write(`--- ${new Date().toISOString()}\n${text}\n`);
      }
      await sleep(process.stdout.isTTY ? 2000 : 10_000);
    }
  } finally {
    await teardown();
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}
