import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_TOLERANCES,
  ReplicaError,
  averageValueReplicas,
  plainMetricReplicas,
  symmetricTolerances,
  utilizationReplicas,
  valueReplicas,
} from "./replica-calculator.ts";
import { hpaDecision, hpaReplicas } from "./hpa-decision.ts";
import { type PodFacts, type PodSample } from "./pod-groups.ts";

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
/** A Pods AverageValue metric with the default tolerances. */
const plain = (pods: readonly PodFacts[], values: Record<string, number>, current: number) =>
  plainMetricReplicas({
    metrics: samples(values),
    pods,
    current,
    targetMilli: 5000,
    tolerances: DEFAULT_TOLERANCES,
    nowMs: NOW,
  });

/** A Resource Utilization metric, target 50%, with the default tolerances. */
const utilization = (
  pods: readonly PodFacts[],
  values: Record<string, number>,
  current: number,
  resource: string,
) =>
  utilizationReplicas({
    metrics: samples(values),
    pods,
    current,
    targetUtilization: 50,
    tolerances: DEFAULT_TOLERANCES,
    resource,
    nowMs: NOW,
  });

test("Pods AverageValue: ceil(ratio × ready pods), within tolerance keeps the count", () => {
  const pods = [running("a"), running("b")];
  // avg 15 / target 5 = 3 → ceil(3 × 2) = 6
  const p = plain(pods, { a: 10_000, b: 20_000 }, 2);
  assert.equal(p.replicas, 6);
  assert.equal(p.usage, 15_000);
  assert.equal(p.usageRatio, 3);
  assert.equal(p.utilization, undefined);
  // avg 10 / 5 = 2 → ceil(2 × 2) = 4
  const up = plain(pods, { a: 10_000, b: 10_000 }, 2);
  assert.equal(up.replicas, 4);
  assert.equal(up.usageRatio, 2);
  assert.match(
    up.steps.join("\n"),
    /average 10 \/ target 5 = usage ratio 2\nceil\(2 × 2 pods\) = 4/,
  );
  // avg 5.4 / 5 = 1.08: within 0.1; so is 5.2
  assert.equal(plain(pods, { a: 5400, b: 5400 }, 2).replicas, 2);
  const keep = plain(pods, { a: 5200, b: 5200 }, 2);
  assert.equal(keep.replicas, 2);
  assert.match(keep.steps.join("\n"), /\|1 − 1\.04\| ≤ tolerance 0\.1: keep 2/);
});

test("Pods AverageValue: the average is Go's integer division", () => {
  // (1 + 2) / 2 = 1 milli (not 1.5) → ratio 1/5000
  const p = plain([running("a"), running("b")], { a: 1, b: 2 }, 2);
  assert.equal(p.usage, 1);
  assert.equal(p.usageRatio, 1 / 5000);
});

test("Pods AverageValue: a missing pod counts as the target when scaling down, 0 when up", () => {
  const pods = [running("a"), running("b"), running("c")];
  // ratio 0.2 < 1: missing c filled with target 5 → (1+1+5)/3=2.33 → ratio 0.466 → ceil(1.4)=2
  const down = plain(pods, { a: 1000, b: 1000 }, 3);
  assert.equal(down.replicas, 2);
  assert.equal(down.usage, 1000);
  assert.match(down.steps.join("\n"), /1 missing \(c\)/);
  assert.match(down.steps.join("\n"), /missing pods counted as at the target \(scale-down\)/);
  // ratio 4 > 1: c filled with 0 → avg 13.33 → ratio 2.67 → ceil(8) = 8
  assert.equal(plain(pods, { a: 20_000, b: 20_000 }, 3).replicas, 8);
  // Four pods, two missing. Down: a=b=0 → c, d at the target: ratio 0.5 → ceil(0.5 × 4) = 2.
  const four = [running("a"), running("b"), running("c"), running("d")];
  assert.equal(plain(four, { a: 0, b: 0 }, 4).replicas, 2);
  // Up: a=b=20 over target 5 (ratio 4); c, d as 0 → ratio 2 → 8.
  const up = plain(four, { a: 20_000, b: 20_000 }, 4);
  assert.equal(up.replicas, 8);
  assert.match(up.steps.join("\n"), /missing pods counted as 0 \(scale-up\): usage ratio 2\n/);
});

test("Pods AverageValue: at a ratio of exactly 1 missing pods are left out (no fill-in)", () => {
  const pods = [running("a"), running("b"), running("c")];
  const p = plain(pods, { a: 5000, b: 5000 }, 3);
  assert.equal(p.replicas, 3);
  assert.match(p.steps.join("\n"), /missing pods left out \(ratio 1\): usage ratio 1/);
});

test("Pods AverageValue: a fill-in that reverses the direction keeps the count", () => {
  // ratio 1.2 > 1 with c missing → c as 0 → avg 4 → ratio 0.8 < 1: reversed → keep 3
  const p = plain([running("a"), running("b"), running("c")], { a: 6000, b: 6000 }, 3);
  assert.equal(p.replicas, 3);
  assert.match(p.steps.join("\n"), /direction reversed: keep 3/);
});

test("ignored and pending pods, and no samples at all", () => {
  const pods = [running("a"), running("b", { deleting: true }), running("c", { phase: "Pending" })];
  // b is ignored; c is unready and the ratio 2 > 1: c counts 0 → avg 5 → within tolerance → 1
  const p = plain(pods, { a: 10_000, b: 90_000 }, 1);
  assert.equal(p.replicas, 1);
  assert.match(p.steps[0] ?? "", /1 unready \(Pending\) \(c\), 1 ignored/);
  assert.match(p.steps.join("\n"), /unready pods as 0 \(scale-up\)/);
  // Failed pods are ignored altogether.
  assert.equal(
    plain([running("a"), running("x", { phase: "Failed" })], { a: 5000 }, 2).replicas,
    2,
  );
  assert.throws(() => plain(pods, {}, 1), ReplicaError);
  assert.throws(() => plain(pods, {}, 1), /did not receive metrics for targeted pods/);
  assert.throws(() => plain([], {}, 1), /no pods returned by selector/);
  // The steps up to the failure travel with the error (explain prints them).
  try {
    plain([running("a")], {}, 1);
    assert.fail("no error");
  } catch (e) {
    assert.ok(e instanceof ReplicaError);
    assert.match(e.steps.join("\n"), /1 pod\(s\): 0 with a value, 1 missing \(a\)/);
  }
});

test("cpu: a pod still warming up whose sample predates readiness is unready", () => {
  const warm = running("b", {
    startTimeMs: NOW - 60_000,
    ready: { status: "True", lastTransitionMs: NOW - 10_000 },
  });
  const p = plainMetricReplicas({
    metrics: samples({ a: 10_000, b: 10_000 }),
    pods: [running("a"), warm],
    current: 2,
    targetMilli: 5000,
    tolerances: DEFAULT_TOLERANCES,
    resource: "cpu",
    nowMs: NOW,
  });
  // b unready on a scale-up (ratio 2) → b as 0 → avg 5 → within tolerance → keep 2
  assert.equal(p.replicas, 2);
  assert.match(p.steps[0] ?? "", /1 unready \(Pending or not yet ready for cpu\) \(b\)/);
});

test("Resource Utilization: truncated percent of the requests", () => {
  const req = new Map([["cpu", 100]]);
  const pods = [running("a", { requestsMilli: req }), running("b", { requestsMilli: req })];
  const p = utilization(pods, { a: 150, b: 151 }, 2, "cpu");
  // 301 × 100 / 200 = 150% → ratio 3 → 6
  assert.equal(p.replicas, 6);
  assert.equal(p.usage, 150);
  assert.equal(p.utilization, 150);
  assert.match(
    p.steps.join("\n"),
    /utilization 150% of the requests \/ target 50% = usage ratio 3/,
  );
  assert.throws(
    () =>
      utilization(
        [running("a", { containerWithoutRequest: new Map([["cpu", "app"]]) })],
        { a: 1 },
        1,
        "cpu",
      ),
    /missing request for cpu in container app of Pod a/,
  );
});

test("Resource Utilization: missing pods count at max(100, target)% of their request", () => {
  const req = new Map([["memory", 1000]]);
  const pods = ["a", "b", "c"].map((n) => running(n, { requestsMilli: req }));
  // a=b=100 of 1000: 10% / 50% = 0.2 → c at 1000 → 1200/3000 = 40% → 0.8 → ceil(2.4) = 3 = keep
  const p = utilization(pods, { a: 100, b: 100 }, 3, "memory");
  assert.equal(p.replicas, 3);
  assert.match(
    p.steps.join("\n"),
    /counted as 100% of their request \(scale-down\): usage ratio 0\.8/,
  );
});

test("behavior tolerances: each direction its own", () => {
  const pods = [running("a"), running("b")];
  const o = { pods, current: 2, targetMilli: 5000, nowMs: NOW };
  const t = { scaleUp: 0.5, scaleDown: 0.05 };
  // ratio 1.4: within the scale-up tolerance 0.5 → keep
  const keep = plainMetricReplicas({ ...o, metrics: samples({ a: 7000, b: 7000 }), tolerances: t });
  assert.equal(keep.replicas, 2);
  assert.match(keep.steps.join("\n"), /1\.4 within tolerance 0\.95\.\.1\.5: keep 2/);
  // ratio 0.9: outside the scale-down tolerance 0.05 → ceil(1.8) = 2 (with 0.1 it would keep too)
  const down = plainMetricReplicas({ ...o, metrics: samples({ a: 4500, b: 4500 }), tolerances: t });
  assert.match(down.steps.join("\n"), /ceil\(0\.9 × 2 pods\) = 2/);
  assert.deepEqual(symmetricTolerances(0.2), { scaleUp: 0.2, scaleDown: 0.2 });
});

test("Object/External Value: ratio × ready pods, 0 replicas scale to ceil(ratio)", () => {
  const pods = [running("a"), running("b", { ready: { status: "False", lastTransitionMs: 0 } })];
  const o = { targetMilli: 10_000, tolerances: DEFAULT_TOLERANCES };
  // 30 / 10 = 3 × ready pods (1) = 3
  const v = valueReplicas({ ...o, valueMilli: 30_000, current: 2, pods });
  assert.equal(v.replicas, 3);
  assert.equal(v.usage, 30_000);
  assert.match(
    v.steps.join("\n"),
    /value 30 \/ target 10 = usage ratio 3\nceil\(3 × 1 ready pods\) = 3/,
  );
  // Two ready pods: 6
  const two = [running("a"), running("b")];
  assert.equal(valueReplicas({ ...o, valueMilli: 30_000, current: 2, pods: two }).replicas, 6);
  // Within the tolerance: the current count, without looking at pods
  assert.equal(valueReplicas({ ...o, valueMilli: 10_500, current: 2, pods: [] }).replicas, 2);
  // At 0 replicas: ceil(ratio)
  assert.equal(valueReplicas({ ...o, valueMilli: 25_000, current: 0, pods: [] }).replicas, 3);
  // No pods at all is getReadyPodsCount's error; no ready pods proposes 0
  assert.throws(
    () => valueReplicas({ ...o, valueMilli: 30_000, current: 1, pods: [] }),
    /unable to calculate ready pods: no pods returned by selector/,
  );
  const notReady = [running("a", { ready: { status: "False", lastTransitionMs: 0 } })];
  assert.equal(valueReplicas({ ...o, valueMilli: 30_000, current: 1, pods: notReady }).replicas, 0);
});

test("Object/External AverageValue: value over the per-pod target", () => {
  const o = { targetMilli: 10_000, tolerances: DEFAULT_TOLERANCES };
  // 25 over 1 replica, target 10 → ceil(2.5) = 3; reported 25
  const p = averageValueReplicas({ ...o, valueMilli: 25_000, statusReplicas: 1 });
  assert.equal(p.replicas, 3);
  assert.equal(p.usage, 25_000);
  assert.match(
    p.steps.join("\n"),
    /value 25 \/ \(target 10 × 1 replicas\) = usage ratio 2\.5\nceil\(25 \/ 10\) = 3/,
  );
  // 30 over 2: ratio 1.5 → ceil(3) = 3; reported ceil(30 / 2) = 15
  const q = averageValueReplicas({ ...o, valueMilli: 30_000, statusReplicas: 2 });
  assert.equal(q.replicas, 3);
  assert.equal(q.usage, 15_000);
  // 21 over 2: ratio 1.05, within → 2
  assert.equal(averageValueReplicas({ ...o, valueMilli: 21_000, statusReplicas: 2 }).replicas, 2);
});

test("the HPA takes the largest proposal, clamped; a failure blocks scaling down", () => {
  assert.equal(hpaReplicas({ current: 2, min: 1, max: 4, proposals: [3, 7], failed: false }), 4);
  assert.equal(hpaReplicas({ current: 2, min: 1, max: 4, proposals: [1], failed: true }), 2);
  assert.equal(hpaReplicas({ current: 2, min: 1, max: 4, proposals: [], failed: true }), 2);
  assert.equal(hpaReplicas({ current: 0, min: 1, max: 4, proposals: [3], failed: false }), 0);
  // 0 → raised to min
  assert.equal(hpaReplicas({ current: 3, min: 1, max: 3, proposals: [0], failed: false }), 1);
  // The current count outside [min, max] is brought in whatever the metrics say
  assert.equal(hpaReplicas({ current: 6, min: 1, max: 4, proposals: [9], failed: false }), 4);
  assert.equal(hpaReplicas({ current: 1, min: 2, max: 4, proposals: [1], failed: false }), 2);
});

test("the HPA decision says which rule applied", () => {
  const d = (proposal: number) =>
    hpaDecision({ current: 2, min: 1, max: 4, proposals: [proposal], failed: false });
  assert.deepEqual(d(0), { replicas: 1, step: "0 < minReplicas: 1" });
  assert.deepEqual(d(9), { replicas: 4, step: "9 > maxReplicas: 4" });
  assert.deepEqual(d(3), { replicas: 3, step: "3 within 1..4" });
  assert.match(
    hpaDecision({ current: 0, min: 1, max: 4, proposals: [3], failed: false }).step,
    /scaling disabled/,
  );
  assert.match(
    hpaDecision({ current: 2, min: 1, max: 4, proposals: [1], failed: true }).step,
    /a metric failed, no scale-down: keep 2/,
  );
});
