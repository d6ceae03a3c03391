import assert from "node:assert/strict";
import { test } from "node:test";
import { clampReplicas, podsMetricReplicas, totalMetricReplicas } from "./replica-calc.ts";

const pod = (name: string, phase = "Running") => ({ name, phase, ready: true, deleting: false });

test("pods metric: ceil(ratio × pods) outside the tolerance, current count inside it", () => {
  const pods = [pod("a"), pod("b")];
  const up = podsMetricReplicas(
    pods,
    new Map([
      ["a", 10_000],
      ["b", 10_000],
    ]),
    5000,
    2,
  );
  assert.equal(up.replicas, 4);
  assert.equal(up.usageRatio, 2);
  const keep = podsMetricReplicas(
    pods,
    new Map([
      ["a", 5200],
      ["b", 5200],
    ]),
    5000,
    2,
  );
  assert.equal(keep.replicas, 2);
  assert.match(keep.steps.join("\n"), /tolerance 0\.1: keep 2/);
});

test("pods metric: no pods, and no value for any pod, are the controller's errors", () => {
  assert.match(podsMetricReplicas([], new Map(), 5000, 1).error ?? "", /no pods returned/);
  assert.match(
    podsMetricReplicas([pod("a")], new Map(), 5000, 1).error ?? "",
    /did not receive metrics for targeted pods/,
  );
});

test("pods metric: missing pods count as the target on a scale-down, 0 on a scale-up", () => {
  const pods = [pod("a"), pod("b"), pod("c"), pod("d")];
  // Scale-down: a=0, b=0; c, d missing → at the target: ratio 0.5 → ceil(0.5 × 4) = 2.
  const down = podsMetricReplicas(
    pods,
    new Map([
      ["a", 0],
      ["b", 0],
    ]),
    5000,
    4,
  );
  assert.equal(down.replicas, 2);
  // Scale-up: a=b=20 over target 5 (ratio 4); c, d missing as 0 → ratio 2 → 8.
  const up = podsMetricReplicas(
    pods,
    new Map([
      ["a", 20_000],
      ["b", 20_000],
    ]),
    5000,
    4,
  );
  assert.equal(up.replicas, 8);
  // Failed pods are ignored altogether.
  const failed = podsMetricReplicas(
    [pod("a"), pod("x", "Failed")],
    new Map([["a", 5000]]),
    5000,
    2,
  );
  assert.equal(failed.replicas, 2);
});

test("object and external metrics: Value scales ready pods, AverageValue divides", () => {
  assert.equal(totalMetricReplicas(30_000, { type: "Value", milli: 10_000 }, 2, 2).replicas, 6);
  assert.equal(
    totalMetricReplicas(30_000, { type: "AverageValue", milli: 10_000 }, 2, 2).replicas,
    3,
  );
  assert.equal(
    totalMetricReplicas(21_000, { type: "AverageValue", milli: 10_000 }, 2, 2).replicas,
    2,
  );
  assert.match(totalMetricReplicas(1, { type: "Value", milli: 1 }, 0, 1).error ?? "", /ready pods/);
});

test("clamp between min and max", () => {
  assert.equal(clampReplicas(0, 1, 4).replicas, 1);
  assert.equal(clampReplicas(9, 1, 4).replicas, 4);
  assert.equal(clampReplicas(3, 1, 4).replicas, 3);
});
