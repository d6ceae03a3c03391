/**
 * @module harness/node-agent/runtime
 * What the node agent's controllers share: its options, and the in-memory state of the pods it
 * runs (one {@link PodRuntime} a pod, one {@link ContainerRuntime} a container).
 */
import type { ChildProcess } from "node:child_process";
import type * as k8s from "@kubernetes/client-node";
import type { PodVolumes } from "./volumes.ts";

export interface NodeAgentOptions {
  readonly kubeconfig: string;
  readonly nodeName: string;
  readonly port: number;
  readonly podsDir: string;
  readonly podTargetsFile: string;
  /** The first two octets of pod IPs, e.g. `127.17`. */
  readonly podNetwork: string;
  readonly kubeletVersion: string;
  readonly log: (msg: string, fields?: Record<string, unknown>) => void;
}

export type Log = NodeAgentOptions["log"];

export interface ContainerRuntime {
  readonly spec: k8s.V1Container;
  child: ChildProcess | undefined;
  pid: number;
  startedAt: Date | undefined;
  restartCount: number;
  ready: boolean;
  probeFailures: number;
  probeTimer: NodeJS.Timeout | undefined;
  waiting: { reason: string; message: string } | undefined;
  lastTerminated: { exitCode: number; reason: string; finishedAt: Date } | undefined;
  stopping: boolean;
  livenessFailures: number;
  livenessTimer: NodeJS.Timeout | undefined;
}

export interface PodRuntime {
  readonly uid: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly namespace: string;
  readonly name: string;
  readonly ip: string;
  readonly dir: string;
  readonly startTime: Date;
  readonly containers: Map<string, ContainerRuntime>;
  readonly volumes: PodVolumes;
  readonly pod: k8s.V1Pod;
  started: boolean;
  lastStatus: string;
  readySince: Date | undefined;
  terminating: boolean;
}

/** The state every controller reads: the pods this node runs, by UID, and whether it stopped. */
export interface AgentState {
  readonly pods: Map<string, PodRuntime>;
  stopped: boolean;
}

/** A container as it is before its first start. */
export function newContainerRuntime(spec: k8s.V1Container): ContainerRuntime {
  return {
    spec,
    child: undefined,
    pid: 0,
    startedAt: undefined,
    restartCount: 0,
    ready: false,
    probeFailures: 0,
    probeTimer: undefined,
    waiting: { reason: "ContainerCreating", message: "" },
    lastTerminated: undefined,
    stopping: false,
    livenessFailures: 0,
    livenessTimer: undefined,
  };
}
