/**
 * @module compare/side-value
 * One side's answer for one HPA metric as `compare` reports it: the value the HPA would see and the
 * replicas the controller would compute from it (hpa/replica-calculator.ts), from the target's
 * scale and pods.
 */
import { parseQuantity } from "../apimachinery/quantity.ts";
import type { HpaJson, MetricProbe } from "./hpa-metrics.ts";
import type { Reading } from "./readings.ts";
import {
  ReplicaError,
  averageValueReplicas,
  plainMetricReplicas,
  utilizationReplicas,
  valueReplicas,
  type Proposal,
  type Tolerances,
} from "../hpa/replica-calculator.ts";
import { type PodFacts } from "../hpa/pod-groups.ts";
import type { SideValue } from "./types.ts";
import { humanMilli, isBytes } from "./units.ts";

export interface PodJson {
  metadata: { name: string; deletionTimestamp?: string };
  spec?: {
    containers?: ContainerJson[];
    initContainers?: (ContainerJson & { restartPolicy?: string })[];
  };
  status?: {
    phase?: string;
    startTime?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
  };
}

interface ContainerJson {
  name: string;
  resources?: { requests?: Record<string, string> };
}

function podFacts(p: PodJson, container: string | undefined): PodFacts {
  const ready = p.status?.conditions?.find((c) => c.type === "Ready");
  const requests = new Map<string, number | undefined>();
  const without = new Map<string, string>();
  // Containers plus restartable (sidecar) init containers, as calculatePodRequests.
  const containers = [
    ...(p.spec?.containers ?? []),
    ...(p.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always"),
  ].filter((c) => container === undefined || c.name === container);
  for (const resource of ["cpu", "memory"]) {
    let sum: number | undefined = 0;
    for (const c of containers) {
      const q = c.resources?.requests?.[resource];
      if (q === undefined) {
        sum = undefined;
        if (!without.has(resource)) without.set(resource, c.name);
        break;
      }
      sum += Number(parseQuantity(q).milliValue());
    }
    requests.set(resource, containers.length === 0 ? undefined : sum);
  }
  return {
    name: p.metadata.name,
    phase: p.status?.phase ?? "",
    deleting: p.metadata.deletionTimestamp !== undefined,
    ready: ready
      ? { status: ready.status, lastTransitionMs: Date.parse(ready.lastTransitionTime ?? "") || 0 }
      : undefined,
    startTimeMs: p.status?.startTime ? Date.parse(p.status.startTime) : undefined,
    requestsMilli: requests,
    containerWithoutRequest: without,
  };
}

export interface Scale {
  readonly specReplicas: number;
  readonly statusReplicas: number;
  readonly selector: string;
}

export interface HpaContext {
  readonly hpa: HpaJson;
  readonly scale: Scale;
  readonly pods: readonly PodJson[];
  readonly tolerances: Tolerances;
  readonly nowMs: number;
}

function propose(probe: MetricProbe, r: Reading, c: HpaContext): Proposal {
  if (!r.ok) throw new ReplicaError(r.error);
  const current = c.scale.specReplicas;
  const t = probe.target;
  const facts = () => c.pods.map((p) => podFacts(p, probe.container));
  if ("pods" in r) {
    const resource = probe.kind === "Pods" ? undefined : probe.name;
    if (t.type === "Utilization") {
      if (resource === undefined) throw new ReplicaError("a Utilization target needs a resource");
      return utilizationReplicas({
        metrics: r.pods,
        pods: facts(),
        current,
        targetUtilization: t.utilization ?? 0,
        tolerances: c.tolerances,
        resource,
        nowMs: c.nowMs,
      });
    }
    return plainMetricReplicas({
      metrics: r.pods,
      pods: facts(),
      current,
      targetMilli: t.milli ?? 0,
      tolerances: c.tolerances,
      ...(resource === undefined ? {} : { resource }),
      nowMs: c.nowMs,
    });
  }
  if (t.type === "AverageValue") {
    return averageValueReplicas({
      valueMilli: r.value,
      targetMilli: t.milli ?? 0,
      statusReplicas: c.scale.statusReplicas,
      tolerances: c.tolerances,
    });
  }
  return valueReplicas({
    valueMilli: r.value,
    targetMilli: t.milli ?? 0,
    current,
    pods: facts(),
    tolerances: c.tolerances,
  });
}

export function sideValue(probe: MetricProbe, r: Reading, c: HpaContext): SideValue {
  if (!r.ok) return { error: r.error };
  const bytes = isBytes(probe.name);
  let proposal: Proposal | undefined;
  let replicasError: string | undefined;
  try {
    proposal = propose(probe, r, c);
  } catch (e) {
    replicasError = e instanceof Error ? e.message : String(e);
  }
  let valueMilli: number;
  let value: string;
  if ("pods" in r) {
    const all = [...r.pods.values()].map((s) => s.valueMilli);
    valueMilli = proposal?.usage ?? Math.trunc(all.reduce((a, b) => a + b, 0) / (all.length || 1));
    value =
      proposal?.utilization !== undefined
        ? `${String(proposal.utilization)}% (${humanMilli(valueMilli, bytes)})`
        : humanMilli(valueMilli, bytes);
  } else {
    // AverageValue targets: the controller reports value / status.replicas.
    valueMilli = proposal?.usage ?? r.value;
    value = humanMilli(valueMilli, bytes);
  }
  return {
    value,
    valueMilli,
    ...("pods" in r
      ? { pods: Object.fromEntries([...r.pods].map(([k, v]) => [k, v.valueMilli])) }
      : {}),
    ...(proposal ? { replicas: proposal.replicas } : {}),
    ...(replicasError === undefined ? {} : { replicasError }),
  };
}
