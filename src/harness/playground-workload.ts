/**
 * @module harness/playground-workload
 * The playground's hands on a workload in the local cluster: a Deployment's Ready pods, the demo
 * app's gauges set by hand, bounded HTTP load at its pods.
 */
import { KcmError } from "../errors.ts";
import type { ClusterInfo } from "./cluster.ts";
import type { Progress } from "./kube-binaries.ts";
import { kubectl } from "./kubectl.ts";
import { isLoopback, startLoad } from "./load.ts";

interface PodJson {
  metadata: { name: string; creationTimestamp?: string; deletionTimestamp?: string };
  status: { podIP?: string; conditions?: { type: string; status: string }[] };
}

/** The Ready pods of a Deployment (by its selector), oldest first. */
export async function readyPods(
  info: ClusterInfo,
  namespace: string,
  deployment: string,
): Promise<{ name: string; ip: string }[]> {
  let dep: { spec: { selector: { matchLabels?: Record<string, string> } } };
  try {
    dep = JSON.parse(
      await kubectl(info, ["-n", namespace, "get", "deployment", deployment, "-o", "json"]),
    ) as typeof dep;
  } catch {
    throw new KcmError(
      "KCM_ERR_USAGE",
      `no Deployment ${namespace}/${deployment} in the local cluster (kubectl get deploy -A lists them)`,
    );
  }
  const selector = Object.entries(dep.spec.selector.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const pods = JSON.parse(
    await kubectl(info, ["-n", namespace, "get", "pods", "-l", selector, "-o", "json"]),
  ) as { items: PodJson[] };
  return pods.items
    .filter(
      (p) =>
        p.metadata.deletionTimestamp === undefined &&
        p.status.podIP !== undefined &&
        p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true,
    )
    .sort((a, b) =>
      (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""),
    )
    .map((p) => ({ name: p.metadata.name, ip: p.status.podIP ?? "" }));
}

/** The demo app's settable gauges: name → its HTTP endpoint (src/demo-app/server.ts). */
export const DEMO_GAUGES: Readonly<Record<string, (v: number) => string>> = {
  queue_depth: (v) => `/queue?depth=${String(v)}`,
};

export interface GaugeOptions {
  readonly namespace: string;
  readonly deployment: string;
  readonly gauge: string;
  readonly value: number;
}

/**
 * Sets a demo-app gauge so that its sum over the Deployment's pods is `value`: the value on the
 * oldest Ready pod (the one a scale-down keeps longest), 0 on the others. Returns the pods set.
 */
export async function setGauge(
  info: ClusterInfo,
  o: GaugeOptions,
): Promise<{ pod: string; value: number }[]> {
  const path = DEMO_GAUGES[o.gauge];
  if (path === undefined) {
    throw new KcmError(
      "KCM_ERR_USAGE",
      `gauge ${o.gauge}: the demo app's settable gauges are ${Object.keys(DEMO_GAUGES).join(", ")}`,
    );
  }
  const pods = await readyPods(info, o.namespace, o.deployment);
  if (pods.length === 0) {
    throw new KcmError(
      "KCM_ERR_NOT_RUNNING",
      `Deployment ${o.namespace}/${o.deployment} has no Ready pod to set ${o.gauge} on`,
    );
  }
  const out: { pod: string; value: number }[] = [];
  for (const [i, pod] of pods.entries()) {
    const v = i === 0 ? o.value : 0;
    if (!isLoopback(pod.ip)) continue;
    const res = await fetch(`http://${pod.ip}:8080${path(v)}`, {
      method: "PUT",
      signal: AbortSignal.timeout(3000),
    }).catch((e: unknown) => {
      throw new KcmError(
        "KCM_ERR_NOT_RUNNING",
        `pod ${o.namespace}/${pod.name} (${pod.ip}:8080) did not answer: ${e instanceof Error ? e.message : String(e)}; is it the demo app (image k8s-custom-metrics/demo-app)?`,
      );
    });
    if (!res.ok) {
      throw new KcmError(
        "KCM_ERR_USAGE",
        `pod ${o.namespace}/${pod.name} refused ${o.gauge}=${String(v)} (HTTP ${String(res.status)}); is it the demo app (image k8s-custom-metrics/demo-app)?`,
      );
    }
    out.push({ pod: pod.name, value: v });
  }
  return out;
}

export interface LoadCliOptions {
  readonly namespace: string;
  readonly deployment: string;
  readonly ratePerSecond: number;
  readonly durationSeconds: number;
  readonly port: number;
  readonly path: string;
}

/**
 * Bounded HTTP load at a Deployment's Ready pods (round-robin, the pod list refreshed every
 * second): loopback only, a fixed rate for a fixed time, then it stops by itself.
 */
export async function loadDeployment(
  info: ClusterInfo,
  o: LoadCliOptions,
  progress: Progress,
): Promise<{ sent: number; failed: number }> {
  let urls = (await readyPods(info, o.namespace, o.deployment)).map(
    (p) => `http://${p.ip}:${String(o.port)}${o.path}`,
  );
  if (urls.length === 0) {
    throw new KcmError(
      "KCM_ERR_NOT_RUNNING",
      `Deployment ${o.namespace}/${o.deployment} has no Ready pod to send load to`,
    );
  }
  progress(
    `${String(o.ratePerSecond)} requests/s to ${o.namespace}/${o.deployment} (${String(urls.length)} pod${urls.length === 1 ? "" : "s"}) for ${String(o.durationSeconds)}s…`,
  );
  const run = startLoad({
    urls: () => urls,
    ratePerSecond: o.ratePerSecond,
    durationMs: o.durationSeconds * 1000,
  });
  const stop = () => {
    run.stop();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const refresh = setInterval(() => {
    void readyPods(info, o.namespace, o.deployment)
      .then((pods) => {
        if (pods.length > 0) urls = pods.map((p) => `http://${p.ip}:${String(o.port)}${o.path}`);
        progress(
          `  ${String(run.sent())} sent, ${String(run.failed())} failed, ${String(urls.length)} pod${urls.length === 1 ? "" : "s"}`,
        );
      })
      .catch(() => undefined);
  }, 5000);
  try {
    await run.done;
  } finally {
    clearInterval(refresh);
    process.removeListener("SIGINT", stop);
    process.removeListener("SIGTERM", stop);
  }
  return { sent: run.sent(), failed: run.failed() };
}
