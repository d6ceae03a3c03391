/**
 * @module harness/node-agent/pod-status
 * A pod's `status` from its containers' states, as the kubelet's status manager computes it: a
 * pure function (no clock, no I/O) so it is tested on its own.
 */
import type * as k8s from "@kubernetes/client-node";

/** What the status needs of one container. */
export interface ContainerState {
  readonly name: string;
  readonly image: string;
  /** Its process is running. */
  readonly running: boolean;
  readonly pid: number;
  /** When its current (or last) process started; undefined before the first start. */
  readonly startedAt: Date | undefined;
  /** The readiness probe's verdict (true without a probe). */
  readonly ready: boolean;
  readonly restartCount: number;
  readonly waiting: { readonly reason: string; readonly message?: string } | undefined;
  readonly lastTerminated:
    { readonly exitCode: number; readonly reason: string; readonly finishedAt: Date } | undefined;
}

export interface PodState {
  readonly ip: string;
  readonly startTime: Date;
  readonly containers: readonly ContainerState[];
}

export interface ComputedPodStatus {
  /**
   * What the status says that can change (phase, readiness, container statuses), as a string:
   * the status needs writing only when this differs from the last one written.
   */
  readonly summary: string;
  readonly status: k8s.V1PodStatus;
}

/**
 * The status of `pod` (as last read: its status' other fields and its conditions' transition
 * times are kept) given its containers' states. `now` is the transition time of a condition whose
 * status changes.
 */
export function podStatus(pod: k8s.V1Pod, state: PodState, now: Date): ComputedPodStatus {
  const containers = state.containers;
  const allRunning = containers.every((c) => c.running);
  const neverStarted = containers.some((c) => c.startedAt === undefined);
  const allReady = allRunning && containers.every((c) => c.ready);
  const phase = neverStarted ? "Pending" : "Running";
  const statuses = containers.map((c): k8s.V1ContainerStatus => {
    const s: k8s.V1ContainerStatus = {
      name: c.name,
      image: c.image,
      imageID: "",
      ready: c.running && c.ready,
      started: c.running,
      restartCount: c.restartCount,
      state:
        c.running && c.startedAt
          ? { running: { startedAt: c.startedAt } }
          : { waiting: c.waiting ?? { reason: "ContainerCreating" } },
    };
    if (c.running) s.containerID = `local-process://${String(c.pid)}`;
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
  const prev = new Map((pod.status?.conditions ?? []).map((c) => [c.type, c]));
  const cond = (type: string, ok: boolean, reason?: string): k8s.V1PodCondition => {
    const status = ok ? "True" : "False";
    const old = prev.get(type);
    const c: k8s.V1PodCondition = {
      type,
      status,
      lastTransitionTime:
        old?.status === status && old.lastTransitionTime ? old.lastTransitionTime : now,
    };
    if (!ok && reason) c.reason = reason;
    return c;
  };
  const status: k8s.V1PodStatus = {
    ...(pod.status as object),
    phase,
    hostIP: "127.0.0.1",
    hostIPs: [{ ip: "127.0.0.1" }],
    podIP: state.ip,
    podIPs: [{ ip: state.ip }],
    startTime: state.startTime,
    conditions: [
      cond("PodReadyToStartContainers", true),
      cond("Initialized", true),
      cond("ContainersReady", allReady, "ContainersNotReady"),
      cond("Ready", allReady, "ContainersNotReady"),
      cond("PodScheduled", true),
    ],
    containerStatuses: statuses,
  };
  return { summary, status };
}
