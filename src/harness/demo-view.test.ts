import { test } from "node:test";
import assert from "node:assert/strict";
import { humanQuantity, renderDemo, sparkline } from "./demo-view.ts";

test("sparkline scales points between the series' min and max", () => {
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), "▁▂▃▄▅▆▇█");
  assert.equal(sparkline([5, 5, 5]), "▁▁▁");
  assert.equal(sparkline([]), "");
  assert.equal(sparkline([1, 2, 3, 4], 2), "▁█");
});

test("the view shows each HPA with its metric, target, replicas and history", () => {
  const text = renderDemo({
    kubernetesVersion: "v1.36.3",
    elapsedSeconds: 75,
    hpas: [
      {
        namespace: "default",
        name: "nginx",
        target: "Deployment/nginx",
        metric: "memory_usage_bytes",
        current: "11071488",
        targetValue: "800k",
        replicas: 2,
        desired: 2,
        min: 1,
        max: 2,
        conditions: ["ScalingLimited=True TooManyReplicas"],
      },
    ],
    history: new Map([
      [
        "default/nginx",
        [
          { value: 1, replicas: 1 },
          { value: 2, replicas: 2 },
        ],
      ],
    ]),
    pods: [
      { namespace: "default", name: "nginx-1", phase: "Running", ready: true, ip: "127.1.0.2" },
    ],
    hints: ["kubectl get hpa -w"],
    load: "",
  });
  assert.match(text, /running 1m15s/);
  assert.match(
    text,
    /HPA default\/nginx → Deployment\/nginx: memory_usage_bytes 10.6Mi \/ target 781Ki; replicas 2 \(desired 2, min 1, max 2\)/,
  );
  assert.match(text, /ScalingLimited=True TooManyReplicas/);
  assert.match(text, /replicas ▁█/);
  assert.match(text, /default\/nginx-1 +Running +Ready +127\.1\.0\.2/);
});

test("values in human units: binary for byte metrics, three digits otherwise", () => {
  assert.equal(humanQuantity("10901504", "memory_usage_bytes"), "10.4Mi");
  assert.equal(humanQuantity("4950m", "http_requests_per_second"), "4.95");
  assert.equal(humanQuantity("25", "queue_depth"), "25");
  assert.equal(humanQuantity("", "queue_depth"), "");
  assert.equal(humanQuantity("not-a-quantity", "x"), "not-a-quantity");
});
