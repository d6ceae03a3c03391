import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../config/load.ts";
import { hpaSnapshot, renderWatch } from "./demo-view.ts";
import { describeChoice, servedApiServices } from "./playground.ts";

const names = (a: readonly { group: string; version: string }[]) =>
  a.map((x) => `${x.version}.${x.group}`);

test("an adapter is registered only for the API groups its config serves", () => {
  const external = parseConfig(
    "externalRules:\n  - seriesQuery: '{__name__=\"q\"}'\n    metricsQuery: sum(<<.Series>>)\n",
    "c.yaml",
  );
  // Ours serves metrics.k8s.io from the kubelets without resourceRules; upstream does not.
  assert.deepEqual(names(servedApiServices("ours", external)), [
    "v1beta1.external.metrics.k8s.io",
    "v1beta1.metrics.k8s.io",
  ]);
  assert.deepEqual(names(servedApiServices("upstream", external)), [
    "v1beta1.external.metrics.k8s.io",
  ]);
  assert.deepEqual(servedApiServices("none", external), []);
  assert.equal(describeChoice(undefined), "adapter: none registered");
  assert.equal(
    describeChoice({ kind: "upstream", config: "/c.yaml", apiServices: ["x"], since: "" }),
    "adapter: prometheus-adapter v0.12.0 with /c.yaml; serves x",
  );
});

test("local watch shows any HPA's first metric in human units, utilization as a percentage", () => {
  const h = hpaSnapshot({
    metadata: { namespace: "web", name: "api" },
    spec: {
      scaleTargetRef: { kind: "Deployment", name: "api" },
      maxReplicas: 5,
      metrics: [
        { type: "Resource", resource: { name: "cpu", target: { averageUtilization: 60 } } },
        { type: "Resource", resource: { name: "memory", target: { averageValue: "100Mi" } } },
      ],
    },
    status: {
      currentReplicas: 2,
      desiredReplicas: 2,
      currentMetrics: [
        { type: "Resource", resource: { name: "cpu", current: { averageUtilization: 75 } } },
      ],
    },
  });
  assert.equal(h.metric, "cpu (+1 more)");
  assert.equal(h.current, "75%");
  const mem = hpaSnapshot({
    metadata: { namespace: "web", name: "mem" },
    spec: {
      scaleTargetRef: { kind: "Deployment", name: "mem" },
      maxReplicas: 3,
      metrics: [
        {
          type: "Pods",
          pods: { metric: { name: "memory_usage_bytes" }, target: { averageValue: "800k" } },
        },
      ],
    },
    status: {
      currentMetrics: [
        {
          type: "Pods",
          pods: { metric: { name: "memory_usage_bytes" }, current: { averageValue: "10901504" } },
        },
      ],
    },
  });
  const text = renderWatch({
    kubernetesVersion: "v1.36.3",
    elapsedSeconds: 3,
    adapter: "adapter: none registered",
    hpas: [h, mem],
    history: new Map([
      [
        "web/api",
        [
          { value: 60, replicas: 1 },
          { value: 75, replicas: 2 },
        ],
      ],
    ]),
  });
  assert.match(
    text,
    /HPA web\/api → Deployment\/api: cpu \(\+1 more\) 75% \/ target 60%; replicas 2 /,
  );
  assert.match(text, /HPA web\/mem → Deployment\/mem: memory_usage_bytes 10\.4Mi \/ target 781Ki;/);
  assert.match(text, /^ {2}replicas ▁█$/m);
  assert.match(text, /^adapter: none registered$/m);
});
