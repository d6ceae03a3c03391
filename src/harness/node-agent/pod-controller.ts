/**
 * @module harness/node-agent/pod-controller
 * The pod loop: binds pending pods to this node, runs the pods bound here (./pod-runner.ts),
 * reports their status, stops those that are deleted or gone and confirms their
 * deletion, then syncs the Services' endpoints and the scrape targets. Every pod and Service is
 * listed again every second.
 */
import * as k8s from "@kubernetes/client-node";
import type { EndpointsController } from "./endpoints-controller.ts";
import type { PodRunner } from "./pod-runner.ts";
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

  async #reportStatus(pod: k8s.V1Pod, rt: PodRuntime): Promise<void> {
    const containers = [...rt.containers.values()];
    const allRunning = containers.every((c) => c.child !== undefined);
    const neverStarted = containers.some((c) => c.startedAt === undefined);
    const allReady = allRunning && containers.every((c) => c.ready);
    const phase = neverStarted ? "Pending" : "Running";
    const statuses = containers.map((c): k8s.V1ContainerStatus => {
      const s: k8s.V1ContainerStatus = {
        name: c.spec.name,
        image: c.spec.image ?? "",
        imageID: "",
        ready: c.child !== undefined && c.ready,
        started: c.child !== undefined,
        restartCount: c.restartCount,
        state:
          c.child && c.startedAt
            ? { running: { startedAt: c.startedAt } }
            : { waiting: c.waiting ?? { reason: "ContainerCreating" } },
      };
      if (c.child) s.containerID = `local-process://${String(c.pid)}`;
      if (c.lastTerminated) {
        s.lastState = {
          terminated: {
            exitCode: c.lastTerminated.exitCode,
            reason: c.lastTerminated.reason,
            finishedAt: c.lastTerminated.finishedAt,
          },
        };
      }
      return s;
    });
    const summary = JSON.stringify({ phase, allReady, statuses });
    if (summary === rt.lastStatus) return;
    const prev = new Map((pod.status?.conditions ?? []).map((c) => [c.type, c]));
    const cond = (type: string, ok: boolean, reason?: string): k8s.V1PodCondition => {
      const status = ok ? "True" : "False";
      const old = prev.get(type);
      const c: k8s.V1PodCondition = {
        type,
        status,
        lastTransitionTime:
          old?.status === status && old.lastTransitionTime ? old.lastTransitionTime : new Date(),
        lastProbeTime: undefined as unknown as Date,
      };
      delete (c as { lastProbeTime?: unknown }).lastProbeTime;
      if (!ok && reason) c.reason = reason;
      return c;
    };
    const status: k8s.V1PodStatus = {
      ...(pod.status as object),
      phase,
      hostIP: "127.0.0.1",
      hostIPs: [{ ip: "127.0.0.1" }],
      podIP: rt.ip,
      podIPs: [{ ip: rt.ip }],
      startTime: rt.startTime,
      conditions: [
        cond("PodReadyToStartContainers", true),
        cond("Initialized", true),
        cond("ContainersReady", allReady, "ContainersNotReady"),
        cond("Ready", allReady, "ContainersNotReady"),
        cond("PodScheduled", true),
      ],
      containerStatuses: statuses,
    };
    const body: k8s.V1Pod = { ...(pod as object), status };
    await this.#d.core.replaceNamespacedPodStatus({
      name: rt.name,
      namespace: rt.namespace,
      body,
    });
    rt.lastStatus = summary;
  }
}
