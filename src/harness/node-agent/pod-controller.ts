/**
 * @module harness/node-agent/pod-controller
 * The pod loop: binds pending pods to this node, runs the pods bound here (./pod-runner.ts),
 * reports their status (./pod-status.ts), stops those that are deleted or gone and confirms their
 * deletion, then syncs the Services' endpoints and the scrape targets. Every pod and Service is
 * listed again every second.
 */
import * as k8s from "@kubernetes/client-node";
import type { EndpointsController } from "./endpoints-controller.ts";
import type { PodRunner } from "./pod-runner.ts";
import { podStatus } from "./pod-status.ts";
import type { AgentState, Log, PodRuntime } from "./runtime.ts";
import type { ScrapeTargetsWriter } from "./scrape-targets.ts";
import { MountError } from "./volumes.ts";

export interface PodControllerDeps {
  readonly core: k8s.CoreV1Api;
  readonly nodeName: string;
  readonly log: Log;
  readonly state: AgentState;
  readonly runner: PodRunner;
  readonly endpoints: EndpointsController;
  readonly targets: ScrapeTargetsWriter;
}

const RESYNC_MS = 1000;

export class PodController {
  readonly #d: PodControllerDeps;
  #loop: NodeJS.Timeout | undefined;
  #reconciling = false;

  constructor(d: PodControllerDeps) {
    this.#d = d;
  }

  /** Starts the loop and runs its first pass. */
  async start(): Promise<void> {
    this.#loop = setInterval(() => {
      void this.reconcile();
    }, RESYNC_MS);
    await this.reconcile();
  }

  stop(): void {
    clearInterval(this.#loop);
  }

  /** One pass: bind, start, report, stop. Never runs twice at once. */
  async reconcile(): Promise<void> {
    const { core, state, log } = this.#d;
    if (this.#reconciling || state.stopped) return;
    this.#reconciling = true;
    try {
      const [list, services] = await Promise.all([
        core.listPodForAllNamespaces({}),
        core.listServiceForAllNamespaces({}),
      ]);
      this.#d.endpoints.services = services.items;
      const seen = new Set<string>();
      for (const pod of list.items) {
        const uid = pod.metadata?.uid ?? "";
        const node = pod.spec?.nodeName;
        if (!node) {
          if ((pod.spec?.schedulerName ?? "default-scheduler") === "default-scheduler") {
            await this.#bind(pod).catch((e: unknown) => {
              log("bind failed", { pod: pod.metadata?.name, err: String(e) });
            });
          }
          continue;
        }
        if (node !== this.#d.nodeName) continue;
        seen.add(uid);
        await this.#reconcilePod(pod).catch((e: unknown) => {
          log("pod sync failed", { pod: pod.metadata?.name, err: String(e) });
        });
      }
      for (const [uid, rt] of state.pods) {
        if (!seen.has(uid)) {
          await this.#d.runner.stop(rt, 5);
          state.pods.delete(uid);
        }
      }
      await this.#d.endpoints.sync();
      this.#d.targets.write(state.pods.values(), services.items);
    } catch (e) {
      log("reconcile failed", { err: String(e) });
    } finally {
      this.#reconciling = false;
    }
  }

  async #bind(pod: k8s.V1Pod): Promise<void> {
    const namespace = pod.metadata?.namespace ?? "default";
    const name = pod.metadata?.name ?? "";
    await this.#d.core.createNamespacedBinding({
      namespace,
      body: {
        metadata: { name, namespace },
        target: { apiVersion: "v1", kind: "Node", name: this.#d.nodeName },
      },
    });
    this.#d.log("bound pod", { pod: `${namespace}/${name}` });
  }

  async #reconcilePod(pod: k8s.V1Pod): Promise<void> {
    const { state, runner } = this.#d;
    const uid = pod.metadata?.uid ?? "";
    const namespace = pod.metadata?.namespace ?? "default";
    const name = pod.metadata?.name ?? "";
    let rt = state.pods.get(uid);
    if (pod.metadata?.deletionTimestamp) {
      if (rt) {
        if (!rt.terminating) {
          // In the background: a pod's grace period must not hold up every other pod's sync.
          const r = rt;
          const grace = Math.min(pod.spec?.terminationGracePeriodSeconds ?? 30, 60);
          void runner.stop(r, grace).then(async () => {
            state.pods.delete(uid);
            r.volumes.remove();
            await this.#confirmDeletion(namespace, name);
          });
        }
        return;
      }
      await this.#confirmDeletion(namespace, name);
      return;
    }
    if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return;
    rt ??= runner.admit(pod);
    try {
      await rt.volumes.sync();
    } catch (e) {
      if (!rt.started) {
        const message =
          e instanceof MountError ? `MountVolume.SetUp failed: ${e.message}` : String(e);
        for (const cr of rt.containers.values())
          cr.waiting = { reason: "ContainerCreating", message };
      } else {
        this.#d.log("volume sync failed", { pod: `${namespace}/${name}`, err: String(e) });
      }
    }
    if (!rt.started && rt.volumes.ready) await runner.start(pod, rt);
    await this.#reportStatus(pod, rt);
  }

  /** As the kubelet does: confirm the deletion once the processes are gone. */
  async #confirmDeletion(namespace: string, name: string): Promise<void> {
    await this.#d.core
      .deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 })
      .catch(() => undefined);
  }

  /** Writes the pod's status when what it says changed since the last write. */
  async #reportStatus(pod: k8s.V1Pod, rt: PodRuntime): Promise<void> {
    const { summary, status } = podStatus(
      pod,
      {
        ip: rt.ip,
        startTime: rt.startTime,
        containers: [...rt.containers.values()].map((c) => ({
          name: c.spec.name,
          image: c.spec.image ?? "",
          running: c.child !== undefined,
          pid: c.pid,
          startedAt: c.startedAt,
          ready: c.ready,
          restartCount: c.restartCount,
          waiting: c.waiting,
          lastTerminated: c.lastTerminated,
        })),
      },
      new Date(),
    );
    if (summary === rt.lastStatus) return;
    const body: k8s.V1Pod = { ...(pod as object), status };
    await this.#d.core.replaceNamespacedPodStatus({
      name: rt.name,
      namespace: rt.namespace,
      body,
    });
    rt.lastStatus = summary;
  }
}
