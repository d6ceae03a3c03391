/**
 * @module compare/types
 * What `compare` reports: per HPA and metric, each side's value and the replicas it proposes, and
 * the metric names one side lists and the other does not.
 */

export type MetricStatus =
  "same" | "different" | "missing-ours" | "missing-theirs" | "missing-both" | "skipped";

export interface SideValue {
  /** The value the HPA would see (`averageValue`, `value`, utilization `%`), for people. */
  readonly value?: string;
  readonly valueMilli?: number;
  /** Pods and Resource metrics: each pod's value, milli-units. */
  readonly pods?: Readonly<Record<string, number>>;
  /** Why there is no value: the API's error, or what the controller would say. */
  readonly error?: string;
  /** The replicas this metric proposes. */
  readonly replicas?: number;
  readonly replicasError?: string;
}

export interface MetricComparison {
  readonly index: number;
  readonly type: string;
  readonly metric: string;
  readonly target: string;
  readonly status: MetricStatus;
  /** What differs, for people. */
  readonly detail?: string;
  readonly ours: SideValue;
  readonly theirs: SideValue;
}

export interface HpaComparison {
  readonly namespace: string;
  readonly name: string;
  readonly scaleTarget: string;
  readonly currentReplicas?: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** `unchecked`: the HPA's target could not be read, so nothing was asked. */
  readonly status: "same" | "different" | "unchecked";
  readonly error?: string;
  readonly metrics: readonly MetricComparison[];
  /** The desired replicas from all metrics, before stabilization and rate limits. */
  readonly replicas: { readonly ours?: number; readonly theirs?: number };
}

export interface DiscoveryComparison {
  readonly group: string;
  readonly version: string;
  /** Who answers this group in the cluster (`namespace/service` of its APIService), or `none`. */
  readonly servedBy: string;
  readonly onlyOurs: readonly string[];
  readonly onlyTheirs: readonly string[];
}

export interface CompareReport {
  readonly tolerance: { readonly relative: number; readonly rule: string };
  readonly discovery: readonly DiscoveryComparison[];
  readonly hpas: readonly HpaComparison[];
  /** Every metric the same and no discovery difference: exit 0. */
  readonly match: boolean;
}
