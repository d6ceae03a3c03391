/**
 * @module providers/resource/types
 * What metrics.k8s.io asks of a resource metrics source (metrics-server's api.MetricsGetter): usage
 * of the given pods and nodes, already as Quantities, with the time and window they cover.
 */
import type { Quantity } from "../../apimachinery/quantity.ts";

/** A pod as the API lists it: only what the response echoes. */
export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface NodeRef {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ResourceUsage {
  readonly cpu: Quantity;
  readonly memory: Quantity;
}

export interface ContainerUsage {
  readonly name: string;
  readonly usage: ResourceUsage;
}

export interface TimeInfo {
  readonly timestamp: Date;
  /** The window the usage covers, in nanoseconds (printed as a Go duration: "15s", "5m0s"). */
  readonly windowNs: bigint;
}

export interface PodUsage extends TimeInfo {
  readonly containers: readonly ContainerUsage[];
}

export interface NodeUsage extends TimeInfo {
  readonly usage: ResourceUsage;
}

export interface ResourceMetricsSource {
  /**
   * True when one usage object stands for a pod or node for a while (a kubelet source's scrape
   * round): what an answer builds from it can be kept with it and reused. A source that builds
   * new ones for every request (Prometheus) leaves it unset, and nothing is kept.
   */
  readonly sharesUsage?: boolean;
  /** One entry per pod, in order; undefined for a pod without (complete) samples. */
  podMetrics(pods: readonly PodRef[]): Promise<(PodUsage | undefined)[]>;
  /** One entry per node, in order; undefined for a node without samples. */
  nodeMetrics(nodes: readonly NodeRef[]): Promise<(NodeUsage | undefined)[]>;
}

/** The pods and nodes the API serves metrics for (listed from the API server). */
export interface ResourceObjects {
  /** Running pods of a namespace ("" for all) that the label selector picks. */
  listPods(namespace: string, labelSelector: string): Promise<PodRef[]>;
  /** A Running pod, or undefined. */
  getPod(namespace: string, name: string): Promise<PodRef | undefined>;
  listNodes(labelSelector: string): Promise<NodeRef[]>;
  getNode(name: string): Promise<NodeRef | undefined>;
}
