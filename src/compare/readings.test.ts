import { test } from "node:test";
import assert from "node:assert/strict";
import type { MetricProbe } from "./hpa-metrics.ts";
import { readBody, sameValue } from "./readings.ts";

const probe = (kind: MetricProbe["kind"], name = "m", container?: string): MetricProbe => ({
  index: 0,
  kind,
  name,
  label: name,
  target: { type: "Value", milli: 1000, text: "1" },
  request: { group: "", version: "", segments: [], query: {} },
  ...(container === undefined ? {} : { container }),
});

test("Pods: per pod milli-values (MilliValue rounds up); empty is the HPA's error", () => {
  const r = readBody(probe("Pods"), {
    items: [
      {
        describedObject: { kind: "Pod", name: "a" },
        value: "0.0001",
        timestamp: "2026-01-01T00:00:00Z",
      },
      { describedObject: { kind: "Pod", name: "b" }, value: "2500m" },
    ],
  });
  assert.ok(r.ok && "pods" in r);
  assert.equal(r.pods.get("a")?.valueMilli, 1);
  assert.equal(r.pods.get("b")?.valueMilli, 2500);
  assert.deepEqual(readBody(probe("Pods"), { items: [] }), {
    ok: false,
    error: "no metrics returned from custom metrics API",
  });
});

test("Object needs exactly one item; External sums", () => {
  assert.deepEqual(readBody(probe("Object"), { items: [{ value: "3" }] }), {
    ok: true,
    value: 3000,
  });
  assert.equal(readBody(probe("Object"), { items: [{ value: "1" }, { value: "2" }] }).ok, false);
  assert.deepEqual(readBody(probe("External"), { items: [{ value: "1" }, { value: "2500m" }] }), {
    ok: true,
    value: 3500,
  });
});

test("Resource: containers summed; a container without the resource drops its pod", () => {
  const body = {
    items: [
      {
        metadata: { name: "a" },
        window: "30s",
        containers: [
          { name: "app", usage: { cpu: "100m", memory: "1Mi" } },
          { name: "side", usage: { cpu: "50m", memory: "1Mi" } },
        ],
      },
      { metadata: { name: "b" }, containers: [{ name: "app", usage: { memory: "1Mi" } }] },
    ],
  };
  const all = readBody(probe("Resource", "cpu"), body);
  assert.ok(all.ok && "pods" in all);
  assert.deepEqual([...all.pods.keys()], ["a"]);
  assert.equal(all.pods.get("a")?.valueMilli, 150);
  assert.equal(all.pods.get("a")?.windowMs, 30_000);
  const one = readBody(probe("ContainerResource", "cpu", "side"), body);
  assert.ok(one.ok && "pods" in one);
  assert.equal(one.pods.get("a")?.valueMilli, 50);
});

test("the same up to sample timing", () => {
  assert.ok(sameValue(1000, 1001, 0));
  assert.ok(sameValue(1000, 1040, 0.05));
  assert.ok(!sameValue(1000, 1100, 0.05));
  // Between our two reads.
  assert.ok(sameValue(1000, 1100, 0.05, 1200));
  assert.ok(!sameValue(1000, 1300, 0.05, 1200));
});
