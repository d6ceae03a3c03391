/**
 * @module harness/node-agent/node-controller
 * The Node object: registered once, its status (capacity, conditions, node info) replaced on
 * every heartbeat, keeping a condition's lastTransitionTime while its status stays the same.
 */
import { cpus, hostname, release } from "node:os";
import * as k8s from "@kubernetes/client-node";
import { memoryCapacityBytes } from "./proc-stats.ts";
import type { Log } from "./runtime.ts";

export interface NodeControllerOptions {
  readonly nodeName: string;
  /** The kubelet port, published as `daemonEndpoints.kubeletEndpoint`. */
  readonly port: number;
  readonly kubeletVersion: string;
}

const arch = (): string => (process.arch === "x64" ? "amd64" : process.arch);

/** The status this node posts, every condition's times set to `now`. */
export function nodeStatus(o: NodeControllerOptions, now: Date): k8s.V1NodeStatus {
  const cap = {
    cpu: String(cpus().length),
    memory: `${String(Math.floor(memoryCapacityBytes() / 1024))}Ki`,
    pods: "110",
    "ephemeral-storage": "100Gi",
  };
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  return {
    capacity: cap,
    allocatable: cap,
    addresses: [
      { type: "InternalIP", address: "127.0.0.1" },
      { type: "Hostname", address: o.nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: o.port } },
    conditions: [
      cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "local node agent"),
      cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "local node agent"),
      cond("PIDPressure", "False", "KubeletHasSufficientPID", "local node agent"),
      cond(
        "Ready",
        "True",
        "KubeletReady",
        "k8s-custom-metrics local node agent is posting ready status",
      ),
    ],
    nodeInfo: {
      machineID: hostname(),
      systemUUID: hostname(),
      bootID: "",
      kernelVersion: release(),
      osImage: "k8s-custom-metrics local node (pods are host processes)",
      containerRuntimeVersion: "local-process://0.1.0",
      kubeletVersion: o.kubeletVersion,
      kubeProxyVersion: "",
      operatingSystem: "linux",
      architecture: arch(),
    },
    phase: "Running",
  };
}

export class NodeController {
  readonly #core: k8s.CoreV1Api;
  readonly #o: NodeControllerOptions;
  readonly #log: Log;

  constructor(core: k8s.CoreV1Api, o: NodeControllerOptions, log: Log) {
    this.#core = core;
    this.#o = o;
    this.#log = log;
  }

  /** Creates the Node when it does not exist, then posts its status. */
  async register(): Promise<void> {
    const name = this.#o.nodeName;
    try {
      await this.#core.readNode({ name });
    } catch (e) {
      if (!(e instanceof k8s.ApiException) || e.code !== 404) throw e;
      await this.#core.createNode({
        body: {
          metadata: {
            name,
            labels: {
              "kubernetes.io/hostname": name,
              "kubernetes.io/os": "linux",
              "kubernetes.io/arch": arch(),
              "node.k8s-custom-metrics.io/local": "true",
            },
          },
          spec: {},
        },
      });
      this.#log("registered node", { node: name });
    }
    await this.updateStatus();
  }

  async updateStatus(): Promise<void> {
    const node = await this.#core.readNode({ name: this.#o.nodeName });
    const prev = new Map((node.status?.conditions ?? []).map((c) => [c.type, c]));
    const status = nodeStatus(this.#o, new Date());
    for (const c of status.conditions ?? []) {
      const old = prev.get(c.type);
      if (old?.status === c.status && old.lastTransitionTime) {
        c.lastTransitionTime = old.lastTransitionTime;
      }
    }
    node.status = status;
    await this.#core.replaceNodeStatus({ name: this.#o.nodeName, body: node });
  }
}
