/**
 * metrics.k8s.io through the aggregator: the registered adapter (kubelet source, since the local
 * node agent is the kubelet) answers `kubectl top`, and the real HPA controller scales a
 * Deployment on a Resource cpu Utilization target.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { ensureRegisteredAdapter } from "../support/registered-adapter.ts";
import { freshNamespace, kubectl, kubectlJson, testCluster, waitFor } from "../support/cluster.ts";

const T = { timeout: 240_000 };

interface Hpa {
  status: {
    currentReplicas?: number;
    currentMetrics?: {
      type: string;
      resource?: { name: string; current: { averageUtilization?: number; averageValue?: string } };
    }[];
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

let info: ClusterInfo;
const namespaces: string[] = [];

before(async () => {
  info = await testCluster();
  // The registered adapter serves metrics.k8s.io from the node agent's kubelet endpoint.
  await ensureRegisteredAdapter(info);
});

after(async () => {
  // Deleting the namespaces stops the CPU burners.
  for (const ns of namespaces) await kubectl(info, ["delete", "namespace", ns, "--wait=false"]);
});

describe("metrics.k8s.io behind the aggregator", () => {
  test("kubectl top pods -A and kubectl top nodes print real usage", T, async () => {
    const ns = await freshNamespace(info, "top");
    namespaces.push(ns);
    await kubectl(
      info,
      ["-n", ns, "apply", "-f", "-"],
      readFileSync("examples/resource/nginx.yaml", "utf8"),
    );
    const rows = await waitFor(
      "kubectl top pods -A to list both nginx pods",
      async () => {
        const out = await kubectl(info, ["top", "pods", "-A", "--no-headers"]);
        const mine = out
          .split("\n")
          .map((l) => l.trim().split(/\s+/))
          .filter((f) => f[0] === ns);
        return mine.length === 2 ? mine : undefined;
      },
      120_000,
      2000,
    );
    for (const [, name, cpu, mem] of rows) {
      assert.match(name ?? "", /^web-/);
      assert.match(cpu ?? "", /^\d+m$/);
      const mi = Number(/^(\d+)Mi$/.exec(mem ?? "")?.[1]);
      // nginx master and worker: a few MiB, not zero, not absurd.
      assert.ok(mi >= 1 && mi < 512, mem);
    }
    const nodes = await kubectl(info, ["top", "nodes", "--no-headers"]);
    const [name, cpu, cpuPct, mem, memPct] = nodes.trim().split(/\s+/);
    assert.equal(name, info.nodeName);
    assert.match(cpu ?? "", /^\d+m$/);
    assert.match(cpuPct ?? "", /^\d+%$/);
    assert.match(mem ?? "", /^\d+Mi$/);
    assert.ok(Number(/^(\d+)/.exec(mem ?? "")?.[1]) > 16, mem);
    assert.match(memPct ?? "", /^\d+%$/);
    const raw = JSON.parse(
      await kubectl(info, ["get", "--raw", `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods`]),
    ) as { kind: string; items: { window: string }[] };
    assert.equal(raw.kind, "PodMetricsList");
    assert.equal(raw.items.length, 2);
  });

  test("an HPA on Resource cpu Utilization scales a CPU-burning Deployment up", T, async () => {
    const ns = await freshNamespace(info, "cpu-hpa");
    namespaces.push(ns);
    await kubectl(
      info,
      ["-n", ns, "apply", "-f", "-"],
      readFileSync("examples/resource/cpu-burner.yaml", "utf8"),
    );
    try {
      const up = await waitFor(
        "the HPA to scale cpu-burner to 2 replicas",
        async () => {
          const h = await kubectlJson<Hpa>(info, ["-n", ns, "get", "hpa", "cpu-burner"]);
          return (h.status.currentReplicas ?? 0) >= 2 && h.status.currentMetrics?.[0]
            ? h
            : undefined;
        },
        200_000,
        2000,
      );
      const active = up.status.conditions?.find((c) => c.type === "ScalingActive");
      assert.equal(active?.status, "True", JSON.stringify(up.status.conditions));
      assert.equal(active.reason, "ValidMetricFound");
      const m = up.status.currentMetrics?.[0];
      assert.equal(m?.type, "Resource");
      assert.equal(m.resource?.name, "cpu");
      assert.ok(
        (m.resource.current.averageUtilization ?? 0) > 50,
        JSON.stringify(m.resource.current),
      );
      assert.equal(up.status.currentReplicas, 2);
    } finally {
      await kubectl(info, ["-n", ns, "scale", "deployment", "cpu-burner", "--replicas=0"]).catch(
        () => "",
      );
    }
  });
});
