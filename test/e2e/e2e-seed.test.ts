import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseQuantity } from "../../src/apimachinery/quantity.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { freshNamespace, kubectl, kubectlJson, testCluster, waitFor } from "../support/cluster.ts";
import { ensureRegisteredAdapter } from "../support/registered-adapter.ts";

interface Hpa {
  status: {
    currentReplicas?: number;
    desiredReplicas?: number;
    currentMetrics?: {
      type: string;
      pods?: { metric: { name: string }; current: { averageValue: string } };
    }[];
    conditions?: { type: string; status: string; reason: string; message?: string }[];
  };
}

let info: ClusterInfo;
let ns: string;
before(async () => {
  info = await testCluster();
  await ensureRegisteredAdapter(info);
  ns = await freshNamespace(info, "seed");
});
after(async () => {
  await kubectl(info, ["delete", "namespace", ns, "--wait=false"]);
});

test(
  "the seed: an HPA on the pods metric memory_usage_bytes (800k) scales nginx to 2 through the real aggregator",
  { timeout: 240_000 },
  async () => {
    await kubectl(
      info,
      ["-n", ns, "apply", "-f", "-"],
      readFileSync("examples/seed/nginx.yaml", "utf8"),
    );

    // The metric is served through kube-apiserver's aggregation layer.
    const raw = await waitFor(
      "memory_usage_bytes for the nginx pod through the aggregator",
      async () => {
        const body = JSON.parse(
          await kubectl(info, [
            "get",
            "--raw",
            `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns}/pods/*/memory_usage_bytes?labelSelector=app%3Dnginx`,
          ]),
        ) as {
          kind: string;
          items: {
            describedObject: { kind: string; namespace: string };
            metric: { name: string };
            value: string;
          }[];
        };
        return body.items.length > 0 ? body : undefined;
      },
      120_000,
      2000,
    );
    assert.equal(raw.kind, "MetricValueList");
    const first = raw.items[0];
    assert.ok(first);
    assert.equal(first.describedObject.kind, "Pod");
    assert.equal(first.describedObject.namespace, ns);
    assert.equal(first.metric.name, "memory_usage_bytes");

    const hpa = await waitFor(
      "the HPA to scale to 2 and report TooManyReplicas",
      async () => {
        const h = await kubectlJson<Hpa>(info, ["-n", ns, "get", "hpa", "nginx"]);
        const limited = h.status.conditions?.find((c) => c.type === "ScalingLimited");
        return h.status.currentReplicas === 2 &&
          limited?.status === "True" &&
          limited.reason === "TooManyReplicas"
          ? h
          : undefined;
      },
      180_000,
      2000,
    );
    assert.equal(hpa.status.desiredReplicas, 2);
    const active = hpa.status.conditions?.find((c) => c.type === "ScalingActive");
    assert.ok(active, JSON.stringify(hpa.status.conditions));
    assert.equal(active.status, "True", JSON.stringify(hpa.status.conditions));
    assert.equal(active.reason, "ValidMetricFound");
    const current = hpa.status.currentMetrics?.[0];
    assert.ok(current?.pods);
    assert.equal(current.type, "Pods");
    assert.equal(current.pods.metric.name, "memory_usage_bytes");
    // An nginx process uses megabytes: far above the 800k target.
    const avg = parseQuantity(current.pods.current.averageValue).toNumber();
    assert.ok(avg > 800_000, `averageValue ${String(avg)}`);
    await waitFor("two ready nginx pods", async () => {
      const d = await kubectlJson<{ status: { readyReplicas?: number } }>(info, [
        "-n",
        ns,
        "get",
        "deployment",
        "nginx",
      ]);
      return d.status.readyReplicas === 2 ? true : undefined;
    });
  },
);
