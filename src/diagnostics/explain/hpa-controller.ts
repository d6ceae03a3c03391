/**
 * @module diagnostics/explain/hpa-controller
 * The last link of an HPA metric's chain: what the HPA controller computes from the adapter's
 * answer (replica_calculator.go through hpa/replica-calculator.ts), step by step, within the
 * HPA's min and max.
 */
import {
  averageValueReplicas,
  DEFAULT_TOLERANCE,
  plainMetricReplicas,
  ReplicaError,
  symmetricTolerances,
  valueReplicas,
  type Proposal,
} from "../../hpa/replica-calculator.ts";
import { hpaDecision } from "../../hpa/hpa-decision.ts";
import type { PodFacts, PodSample } from "../../hpa/pod-groups.ts";
import type { Chain } from "./chain.ts";
import type { ExplainContext } from "./context.ts";
import { errorText, milli } from "./text.ts";
import type { Answer, HpaMetric, MetricSpec, PodJson, Target } from "./types.ts";

export function targetOf(m: MetricSpec): Target | undefined {
  return (
    m.pods?.target ??
    m.object?.target ??
    m.external?.target ??
    m.resource?.target ??
    m.containerResource?.target
  );
}

/** What the replica calculator reads of a pod; explain has no Resource metrics, so no requests. */
function podFacts(p: PodJson): PodFacts {
  const ready = p.status?.conditions?.find((c) => c.type === "Ready");
  const ms = (t: string | undefined) => (t === undefined ? undefined : Date.parse(t));
  return {
    name: p.metadata.name,
    phase: p.status?.phase ?? "Unknown",
    deleting: p.metadata.deletionTimestamp !== undefined,
    ready: ready && { status: ready.status, lastTransitionMs: ms(ready.lastTransitionTime) ?? 0 },
    startTimeMs: ms(p.status?.startTime),
  };
}

export function computeReplicas(
  cx: ExplainContext,
  h: HpaMetric,
  answer: Answer,
  pods: readonly PodJson[],
  chain: Chain,
): void {
  const tolerance = cx.o.tolerance ?? DEFAULT_TOLERANCE;
  const tolerances = symmetricTolerances(tolerance);
  const current = h.scale.replicas;
  const min = h.hpa.spec.minReplicas ?? 1;
  const max = h.hpa.spec.maxReplicas;
  const t = targetOf(h.spec);
  if (!t) return;
  let calc: Proposal;
  try {
    if (h.spec.pods) {
      if (t.type !== "AverageValue") {
        chain.fail(
          "hpa-controller",
          `HPA controller: a Pods metric needs an AverageValue target, not ${t.type}`,
          "invalid-metric",
          "the API server rejects other target types for Pods metrics",
          "set target.type: AverageValue",
        );
        return;
      }
      const nowMs = Date.now();
      // The sample time and window only matter for cpu, which a Pods metric never is.
      const metrics = new Map<string, PodSample>(
        [...answer.values].map(([pod, v]) => [
          pod,
          { valueMilli: v, timestampMs: nowMs, windowMs: 0 },
        ]),
      );
      calc = plainMetricReplicas({
        metrics,
        pods: pods.map(podFacts),
        current,
        targetMilli: milli(t.averageValue ?? "0"),
        tolerances,
        nowMs,
      });
    } else {
      // Object: the object's value; External: the sum of the values.
      let usage = 0;
      for (const v of answer.values.values()) usage += v;
      calc =
        t.type === "Value"
          ? valueReplicas({
              valueMilli: usage,
              targetMilli: milli(t.value ?? "0"),
              current,
              pods: pods.map(podFacts),
              tolerances,
            })
          : averageValueReplicas({
              valueMilli: usage,
              targetMilli: milli(t.averageValue ?? "0"),
              statusReplicas: current,
              tolerances,
            });
    }
  } catch (e) {
    if (e instanceof ReplicaError) {
      chain.fail(
        "hpa-controller",
        `HPA controller: ${e.message}`,
        /no pods/.test(e.message) ? "no-pods" : "pods-without-samples",
        e.message,
        "see the objects and query links above",
        { details: [...e.steps] },
      );
      return;
    }
    chain.add("hpa-controller", "skip", `HPA controller: not computed (${errorText(e)})`);
    return;
  }
  const c = hpaDecision({ current, min, max, proposals: [calc.replicas], failed: false });
  chain.add(
    "hpa-controller",
    "ok",
    `HPA controller: ${String(current)} → ${String(c.replicas)} replica(s) (tolerance ${String(tolerance)}; pkg/controller/podautoscaler/replica_calculator.go)`,
    {
      details: [
        ...calc.steps,
        c.step,
        "the scale itself then follows spec.behavior (stabilization window, rate policies)",
      ],
    },
  );
}
