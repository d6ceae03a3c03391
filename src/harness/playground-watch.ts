/**
 * @module harness/playground-watch
 * `local watch`: the demo's live view of every HPA in a running local cluster (not only the
 * demo's), with the adapter that serves them; redraws until Ctrl-C or `exitAfterSeconds`.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { KcmError } from "../errors.ts";
import { KubeClient } from "../kube/client.ts";
import { readClusterInfo } from "./cluster.ts";
import { guardOutput, pollCluster, podSnapshots } from "./demo.ts";
import { recordHistory, renderWatch, type History } from "./demo-view.ts";
import { describeChoice, readAdapterChoice } from "./playground.ts";

export interface WatchOptions {
  readonly stateDir: string;
  /** Only this namespace's HPAs (and pods); default all. */
  readonly namespace?: string;
  readonly intervalSeconds: number;
  /** Stop after this many seconds (0: until Ctrl-C). */
  readonly exitAfterSeconds: number;
  readonly pods: boolean;
}

export async function runWatch(o: WatchOptions): Promise<void> {
  const info = await readClusterInfo(o.stateDir);
  if (!info) throw new KcmError("KCM_ERR_NOT_RUNNING", `no local cluster in ${o.stateDir}`);
  const out = guardOutput(process.stdout);
  const api = new KubeClient({ kubeconfig: info.kubeconfig });
  const history: History = new Map();
  const started = Date.now();
  const ctl = new AbortController();
  const stopping = () => ctl.signal.aborted;
  const onSignal = () => {
    ctl.abort();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    while (!stopping() && out.open()) {
      const elapsed = (Date.now() - started) / 1000;
      const [{ hpas, pods }, choice] = await Promise.all([
        pollCluster(api, o.namespace),
        readAdapterChoice(o.stateDir).catch(() => undefined),
      ]);
      recordHistory(history, hpas);
      const text = renderWatch({
        kubernetesVersion: info.kubernetesVersion,
        elapsedSeconds: elapsed,
        adapter: describeChoice(choice),
        hpas,
        history,
        ...(o.pods ? { pods: podSnapshots(pods) } : {}),
      });
      if (process.stdout.isTTY) process.stdout.write(`\x1b[2J\x1b[H${text}\n`);
      else process.stdout.write(`--- ${new Date().toISOString()}\n${text}\n`);
      if (o.exitAfterSeconds > 0 && elapsed + o.intervalSeconds > o.exitAfterSeconds) break;
      // Wakes early on Ctrl-C.
      await sleep(o.intervalSeconds * 1000, undefined, { signal: ctl.signal }).catch(
        () => undefined,
      );
    }
  } finally {
    api.close();
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}
