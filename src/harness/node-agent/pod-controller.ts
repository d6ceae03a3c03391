/**
 * @module harness/node-agent/pod-controller
 * The pod loop: binds pending pods to this node, runs the pods bound here (./pod-runner.ts),
 * reports their status (./pod-status.ts), stops those that are deleted or gone and confirms their
 * deletion, then syncs the Services' endpoints and the scrape targets. Pods and Services come
 * from watched caches (./reflector.ts); a pass runs when either changes, and every second over
 * the caches, for what only this node sees (a container that exited, a probe's verdict).
 */
import * as k8s from "@kubernetes/client-node";
// Not re-exported by the package's index: what the typed API uses to read objects (dates as Date).
import { ObjectSerializer } from "@kubernetes/client-node/dist/serializer.js";
import type { EndpointsController } from "./endpoints-controller.ts";
import type { PodRunner } from "./pod-runner.ts";
import { podStatus } from "./pod-status.ts";
import type { AgentState, Log, PodRuntime } from "./runtime.ts";
import { Reflector, type WatchFn } from "./reflector.ts";
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
  /** Watches a path of the API (`/api/v1/pods`) with these query parameters. */
  readonly watch: k8s.Watch;
}

const RESYNC_MS = 1000;

export class PodController {
  readonly #d: PodControllerDeps;
  #loop: NodeJS.Timeout | undefined;
  #reconciling = false;
  /** A change arrived during a pass: run another when it ends. */
  #again = false;
  #kicked = false;
  /** Pods this node bound whose binding the pod cache does not show yet, by UID. */
  readonly #bound = new Set<string>();
  readonly #pods: Reflector<k8s.V1Pod>;
  readonly #services: Reflector<k8s.V1Service>;

  constructor(d: PodControllerDeps) {
    this.#d = d;
    const { core, log } = d;
    const onChange = () => {
      this.#kick();
    };
    this.#pods = new Reflector<k8s.V1Pod>({
      resource: "pods",
      list: () => core.listPodForAllNamespaces({}),
      watch: this.#watchFn("/api/v1/pods"),
      decode: (raw) => ObjectSerializer.deserialize(raw, "V1Pod") as k8s.V1Pod,
      onChange,
      log,
    });
    this.#services = new Reflector<k8s.V1Service>({
      resource: "services",
      list: () => core.listServiceForAllNamespaces({}),
      watch: this.#watchFn("/api/v1/services"),
      decode: (raw) => ObjectSerializer.deserialize(raw, "V1Service") as k8s.V1Service,
      onChange,
      log,
    });
  }

  #watchFn(path: string): WatchFn {
    return (resourceVersion, onEvent, done) =>
      this.#d.watch.watch(
        path,
        {
          resourceVersion,
          allowWatchBookmarks: true,
          // As client-go: the server ends every watch after 5 to 10 minutes, then it resumes.
          timeoutSeconds: 300 + Math.floor(Math.random() * 300),
        },
        onEvent,
        done,
      );
  }

  /** Starts the caches and the loop, and runs the first pass once both caches were listed. */
  async start(): Promise<void> {
    await Promise.all([this.#pods.start(), this.#services.start()]);
    this.#loop = setInterval(() => {
      void this.reconcile();
    }, RESYNC_MS);
    await this.reconcile();
  }

  stop(): void {
    clearInterval(this.#loop);
    this.#pods.stop();
    this.#services.stop();
  }

  /** A pass soon, once for any number of changes in a row. */
  #kick(): void {
    if (this.#kicked) return;
    this.#kicked = true;
    setImmediate(() => {
      this.#kicked = false;
      void this.reconcile();
    });
  }

  /** One pass: bind, start, report, stop. Never runs twice at once. */
  async reconcile(): Promise<void> {
    const { state, log } = this.#d;
    if (state.stopped) return;
    if (this.#reconciling) {
      this.#again = true;
      return;
    }
    // Until both caches were listed they say nothing (as a failed list before).
    if (!this.#pods.synced || !this.#services.synced) return;
    this.#reconciling = true;
    try {
      const pods = this.#pods.list();
      const services = this.#services.list();
      this.#d.endpoints.services = services;
      const seen = new Set<string>();
      for (const pod of pods) {
        const uid = pod.metadata?.uid ?? "";
        const node = pod.spec?.nodeName;
        if (!node) {
          // Bound already, the watch not yet telling: binding again would only be refused.
          if (this.#bound.has(uid)) continue;
          if ((pod.spec?.schedulerName ?? "default-scheduler") === "default-scheduler") {
            await this.#bind(pod).catch((e: unknown) => {
              log("bind failed", { pod: pod.metadata?.name, err: String(e) });
            });
          }
          continue;
        }
        this.#bound.delete(uid);
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
      this.#d.targets.write(state.pods.values(), services);
    } catch (e) {
      log("reconcile failed", { err: String(e) });
    } finally {
      this.#reconciling = false;
      if (this.#again) {
        this.#again = false;
        this.#kick();
      }
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
    this.#bound.add(pod.metadata?.uid ?? "");
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
