import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_TOLERANCES,
  ReplicaError,
  averageValueReplicas,
  hpaReplicas,
  plainMetricReplicas,
  utilizationReplicas,
  valueReplicas,
  type PodFacts,
  type PodSample,
} from "./replicas.ts";

const NOW = 1_000_000_000;
const running = (name: string, extra: Partial<PodFacts> = {}): PodFacts => ({
  name,
  phase: "Running",
  deleting: false,
  ready: { status: "True", lastTransitionMs: NOW - 600_000 },
  startTimeMs: NOW - 700_000,
  ...extra,
});
const samples = (values: Record<string, number>): Map<string, PodSample> =>
  new Map(
    Object.entries(values).map(([k, v]) => [
      k,
      { valueMilli: v, timestampMs: NOW, windowMs: 60_000 },
    ]),
  );

test("Pods AverageValue: ceil(ratio × ready pods), within tolerance keeps the count", () => {
  const pods = [running("a"), running("b")];
  // avg 15 / target 5 = 3 → ceil(3 × 2) = 6
  const p = plainMetricReplicas({
    metrics: samples({ a: 10_000, b: 20_000 }),
    pods,
    current: 2,
    targetMilli: 5000,
    tolerances: DEFAULT_TOLERANCES,
    nowMs: NOW,
  });
  assert.deepEqual(p, { replicas: 6, usage: 15_000 });
  // avg 5.4 / 5 = 1.08: within 0.1
  assert.equal(
    plainMetricReplicas({
      metrics: samples({ a: 5400, b: 5400 }),
      pods,
      current: 2,
      targetMilli: 5000,
      tolerances: DEFAULT_TOLERANCES,
      nowMs: NOW,
    }).replicas,
    2,
  );
});

test("Pods AverageValue: a missing pod counts as the target when scaling down, 0 when up", () => {
  const pods = [running("a"), running("b"), running("c")];
  // ratio 0.2 < 1: missing c filled with target 5 → (1+1+5)/3=2.33 → ratio 0.466 → ceil(1.4)=2
  const down = plainMetricReplicas({
    metrics: samples({ a: 1000, b: 1000 }),
    pods,
    current: 3,
    targetMilli: 5000,
    tolerances: DEFAULT_TOLERANCES,
    nowMs: NOW,
  });
  assert.equal(down.replicas, 2);
  assert.equal(down.usage, 1000);
  // ratio 4 > 1: c filled with 0 → avg 13.33 → ratio 2.67 → ceil(8) = 8
  const up = plainMetricReplicas({
    metrics: samples({ a: 20_000, b: 20_000 }),
    pods,
    current: 3,
    targetMilli: 5000,
    tolerances: DEFAULT_TOLERANCES,
    nowMs: NOW,
  });
  assert.equal(up.replicas, 8);
});

test("ignored and pending pods, and no samples at all", () => {
  const pods = [running("a"), running("b", { deleting: true }), running("c", { phase: "Pending" })];
  const p = plainMetricReplicas({
    metrics: samples({ a: 10_000, b: 90_000 }),
    pods,
    current: 1,
    targetMilli: 5000,
    tolerances: DEFAULT_TOLERANCES,
    nowMs: NOW,
  });
  // b is ignored; c is unready and the ratio 2 > 1: c counts 0 → avg 5 → within tolerance → 1
  assert.equal(p.replicas, 1);
  assert.throws(
    () =>
      plainMetricReplicas({
        metrics: samples({}),
        pods,
        current: 1,
        targetMilli: 5000,
        tolerances: DEFAULT_TOLERANCES,
        nowMs: NOW,
      }),
    ReplicaError,
  );
});

test("Resource Utilization: truncated percent of the requests", () => {
  const req = new Map([["cpu", 100]]);
  const pods = [running("a", { requestsMilli: req }), running("b", { requestsMilli: req })];
  const p = utilizationReplicas({
    metrics: samples({ a: 150, b: 151 }),
    pods,
    current: 2,
    targetUtilization: 50,
    tolerances: DEFAULT_TOLERANCES,
    resource: "cpu",
    nowMs: NOW,
  });
  // 301 × 100 / 200 = 150% → ratio 3 → 6
  assert.deepEqual(p, { replicas: 6, usage: 150, utilization: 150 });
  assert.throws(
    () =>
      utilizationReplicas({
        metrics: samples({ a: 1 }),
        pods: [running("a", { containerWithoutRequest: new Map([["cpu", "app"]]) })],
        current: 1,
        targetUtilization: 50,
        tolerances: DEFAULT_TOLERANCES,
        resource: "cpu",
        nowMs: NOW,
      }),
    /missing request for cpu in container app of Pod a/,
  );
});

test("Object/External Value and AverageValue", () => {
  const pods = [running("a"), running("b", { ready: { status: "False", lastTransitionMs: 0 } })];
  // 30 / 10 = 3 × ready pods (1) = 3
  assert.equal(
    valueReplicas({
      valueMilli: 30_000,
      targetMilli: 10_000,
      current: 2,
      pods,
      tolerances: DEFAULT_TOLERANCES,
    }).replicas,
    3,
  );
  // AverageValue: 25 over 1 replica, target 10 → ceil(2.5) = 3; reported 25
  assert.deepEqual(
    averageValueReplicas({
      valueMilli: 25_000,
      targetMilli: 10_000,
      statusReplicas: 1,
      tolerances: DEFAULT_TOLERANCES,
    }),
    { replicas: 3, usage: 25_000 },
  );
  // 0 → ceil(0) = 0, raised to min by the HPA
  assert.equal(hpaReplicas({ current: 3, min: 1, max: 3, proposals: [0], failed: false }), 1);
});

test("the HPA takes the largest proposal, clamped; a failure blocks scaling down", () => {
  assert.equal(hpaReplicas({ current: 2, min: 1, max: 4, proposals: [3, 7], failed: false }), 4);
  assert.equal(hpaReplicas({ current: 2, min: 1, max: 4, proposals: [1], failed: true }), 2);
  assert.equal(hpaReplicas({ current: 2, min: 1, max: 4, proposals: [], failed: true }), 2);
  assert.equal(hpaReplicas({ current: 0, min: 1, max: 4, proposals: [3], failed: false }), 0);
});
