import { test } from "node:test";
import assert from "node:assert/strict";
import {
  groupOwnership,
  knownProduct,
  ownershipChecks,
  type ApiServiceSummary,
} from "./group-owners.ts";

const ours = { namespace: "custom-metrics", name: "k8s-custom-metrics" };
const keda = { namespace: "keda", name: "keda-metrics-apiserver" };
const ms = { namespace: "kube-system", name: "metrics-server" };

function api(group: string, version: string, service = ours): ApiServiceSummary {
  return { name: `${version}.${group}`, group, version, service };
}

test("products are named from their usual Service names", () => {
  assert.equal(knownProduct(keda), "KEDA");
  assert.equal(knownProduct(ms), "metrics-server");
  assert.equal(
    knownProduct({ namespace: "monitoring", name: "prometheus-adapter" }),
    "prometheus-adapter",
  );
  assert.equal(knownProduct({ namespace: "x", name: "my-adapter" }), undefined);
});

test("a group wholly ours passes; one held by KEDA fails only if we serve it too", () => {
  const own = groupOwnership([
    api("custom.metrics.k8s.io", "v1beta2"),
    api("custom.metrics.k8s.io", "v1beta1"),
    api("external.metrics.k8s.io", "v1beta1", keda),
    api("metrics.k8s.io", "v1beta1", ms),
  ]);
  const served = new Set(["custom.metrics.k8s.io", "external.metrics.k8s.io"]);
  const checks = ownershipChecks(own, ours, served);
  assert.deepEqual(
    checks.map((c) => [c.status, c.kind]),
    [
      ["ok", undefined],
      ["fail", "group-owned-elsewhere"],
      ["skip", undefined],
    ],
  );
  assert.match(
    checks[1]?.title ?? "",
    /external\.metrics\.k8s\.io → keda\/keda-metrics-apiserver \(KEDA\), not this adapter/,
  );
  assert.match(
    checks[2]?.title ?? "",
    /metrics-server \(metrics-server\) \(this adapter does not serve it\)/,
  );
  // Not knowing what the adapter serves never fails the check.
  assert.equal(ownershipChecks(own, ours, undefined)[1]?.status, "skip");
});

test("a group split between two services fails", () => {
  const own = groupOwnership([
    api("custom.metrics.k8s.io", "v1beta2"),
    api("custom.metrics.k8s.io", "v1beta1", {
      namespace: "monitoring",
      name: "prometheus-adapter",
    }),
  ]);
  const c = ownershipChecks(own, ours, undefined)[0];
  assert.equal(c?.status, "fail");
  assert.equal(c.kind, "group-split");
  assert.match(
    c.title,
    /v1beta2 → custom-metrics\/k8s-custom-metrics .*; v1beta1 → monitoring\/prometheus-adapter/,
  );
});

test("a group this adapter serves that no APIService registers", () => {
  const checks = ownershipChecks(groupOwnership([]), ours, new Set(["metrics.k8s.io"]));
  assert.deepEqual(
    checks.map((c) => c.status),
    ["skip", "skip", "fail"],
  );
});
