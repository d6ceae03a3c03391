import { test } from "node:test";
import assert from "node:assert/strict";
import type * as k8s from "@kubernetes/client-node";
import { podStatus, type ContainerState, type PodState } from "./pod-status.ts";

const started = new Date("2026-01-01T00:00:00Z");
const earlier = new Date("2025-12-31T00:00:00Z");
const now = new Date("2026-01-02T00:00:00Z");

const container = (over: Partial<ContainerState> = {}): ContainerState => ({
  name: "app",
  image: "nginx:1.27",
  running: true,
  pid: 4242,
  startedAt: started,
  ready: true,
  restartCount: 0,
  waiting: undefined,
  lastTerminated: undefined,
  ...over,
});

const state = (...containers: ContainerState[]): PodState => ({
  ip: "127.17.0.3",
  startTime: earlier,
  containers,
});

const pod = (status?: k8s.V1PodStatus): k8s.V1Pod => ({
  metadata: { name: "p", namespace: "ns", uid: "u" },
  spec: { containers: [{ name: "app", image: "nginx:1.27" }] },
  ...(status ? { status } : {}),
});

const conditions = (s: k8s.V1PodStatus): Partial<Record<string, k8s.V1PodCondition>> =>
  Object.fromEntries((s.conditions ?? []).map((c) => [c.type, c]));

test("a pod whose containers have not started is Pending, not ready, its containers waiting", () => {
  const { status } = podStatus(
    pod(),
    state(
      container({
        running: false,
        pid: 0,
        startedAt: undefined,
        ready: false,
        waiting: { reason: "ContainerCreating", message: "" },
      }),
    ),
    now,
  );
  assert.equal(status.phase, "Pending");
  assert.equal(status.podIP, "127.17.0.3");
  assert.deepEqual(status.podIPs, [{ ip: "127.17.0.3" }]);
  assert.equal(status.hostIP, "127.0.0.1");
  assert.deepEqual(status.hostIPs, [{ ip: "127.0.0.1" }]);
  assert.equal(status.startTime, earlier);
  const c = conditions(status);
  assert.deepEqual(Object.keys(c), [
    "PodReadyToStartContainers",
    "Initialized",
    "ContainersReady",
    "Ready",
    "PodScheduled",
  ]);
  assert.deepEqual(c.Ready, {
    type: "Ready",
    status: "False",
    lastTransitionTime: now,
    reason: "ContainersNotReady",
  });
  assert.equal(c.ContainersReady?.status, "False");
  assert.deepEqual(c.PodScheduled, {
    type: "PodScheduled",
    status: "True",
    lastTransitionTime: now,
  });
  assert.deepEqual(status.containerStatuses, [
    {
      name: "app",
      image: "nginx:1.27",
      imageID: "",
      ready: false,
      started: false,
      restartCount: 0,
      state: { waiting: { reason: "ContainerCreating", message: "" } },
    },
  ]);
});

test("a container with no waiting reason and no process reads ContainerCreating", () => {
  const { status } = podStatus(
    pod(),
    state(container({ running: false, startedAt: undefined, ready: false })),
    now,
  );
  assert.deepEqual(status.containerStatuses?.[0]?.state, {
    waiting: { reason: "ContainerCreating" },
  });
});

test("running and ready containers make a Running, Ready pod", () => {
  const { status } = podStatus(pod(), state(container()), now);
  assert.equal(status.phase, "Running");
  for (const c of status.conditions ?? []) {
    assert.equal(c.status, "True", c.type);
    assert.equal(c.reason, undefined, c.type);
    assert.equal("lastProbeTime" in c, false);
  }
  const cs = status.containerStatuses![0]!;
  assert.equal(cs.ready, true);
  assert.equal(cs.started, true);
  assert.equal(cs.containerID, "local-process://4242");
  assert.deepEqual(cs.state, { running: { startedAt: started } });
  assert.equal(cs.lastState, undefined);
});

test("a running container that is not ready keeps the pod Running but not Ready", () => {
  const { status } = podStatus(pod(), state(container({ ready: false })), now);
  assert.equal(status.phase, "Running");
  const c = conditions(status);
  assert.equal(c.Ready?.status, "False");
  assert.equal(c.ContainersReady?.reason, "ContainersNotReady");
  assert.equal(c.Initialized?.status, "True");
  assert.equal(status.containerStatuses?.[0]?.ready, false);
});

test("a crashed container waits in CrashLoopBackOff with its last termination", () => {
  const finishedAt = new Date("2026-01-01T00:01:00Z");
  const { status } = podStatus(
    pod(),
    state(
      container({
        running: false,
        ready: true, // its last verdict: a container that is not running is never ready
        restartCount: 2,
        waiting: { reason: "CrashLoopBackOff", message: "back-off 4s restarting failed container" },
        lastTerminated: { exitCode: 1, reason: "Error", finishedAt },
      }),
    ),
    now,
  );
  // Started once: Running, as the kubelet reports a restarting pod.
  assert.equal(status.phase, "Running");
  assert.equal(conditions(status).Ready?.status, "False");
  const cs = status.containerStatuses![0]!;
  assert.equal(cs.ready, false);
  assert.equal(cs.started, false);
  assert.equal(cs.restartCount, 2);
  assert.equal(cs.containerID, undefined);
  assert.deepEqual(cs.state, {
    waiting: { reason: "CrashLoopBackOff", message: "back-off 4s restarting failed container" },
  });
  assert.deepEqual(cs.lastState, { terminated: { exitCode: 1, reason: "Error", finishedAt } });
});

test("one container down makes the whole pod not ready", () => {
  const { status } = podStatus(
    pod(),
    state(container(), container({ name: "sidecar", running: false, ready: false })),
    now,
  );
  assert.equal(conditions(status).Ready?.status, "False");
  assert.deepEqual(
    status.containerStatuses?.map((c) => [c.name, c.ready]),
    [
      ["app", true],
      ["sidecar", false],
    ],
  );
});

test("a condition keeps its lastTransitionTime while its status stays, and changes with it", () => {
  const prior = pod({
    phase: "Running",
    qosClass: "BestEffort",
    conditions: [
      { type: "Ready", status: "False", lastTransitionTime: earlier },
      { type: "PodScheduled", status: "True", lastTransitionTime: earlier },
    ],
  });
  const { status } = podStatus(prior, state(container()), now);
  const c = conditions(status);
  assert.equal(c.PodScheduled?.lastTransitionTime, earlier);
  assert.equal(c.Ready?.lastTransitionTime, now);
  assert.equal(c.Initialized?.lastTransitionTime, now);
  // The rest of the status as it was read.
  assert.equal(status.qosClass, "BestEffort");
});

test("the summary changes with what the status says, not with the clock or old conditions", () => {
  const a = podStatus(pod(), state(container()), now).summary;
  const b = podStatus(
    pod({ conditions: [{ type: "Ready", status: "True", lastTransitionTime: earlier }] }),
    state(container()),
    new Date(0),
  ).summary;
  assert.equal(a, b);
  assert.notEqual(podStatus(pod(), state(container({ ready: false })), now).summary, a);
  assert.notEqual(podStatus(pod(), state(container({ restartCount: 1 })), now).summary, a);
  assert.notEqual(podStatus(pod(), state(container({ pid: 1 })), now).summary, a);
});

test("the input pod is not changed", () => {
  const p = pod({ phase: "Pending", conditions: [{ type: "Ready", status: "False" }] });
  const before = JSON.stringify(p);
  podStatus(p, state(container()), now);
  assert.equal(JSON.stringify(p), before);
});
