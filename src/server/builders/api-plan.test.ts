import { test } from "node:test";
import assert from "node:assert/strict";
import { planApis } from "./api-plan.ts";

const all = { custom: true, external: true, resource: true };
const rules = (custom: number, external: number) => ({
  custom: Array.from({ length: custom }, () => ({}) as never),
  external: Array.from({ length: external }, () => ({}) as never),
});

test("a group without rules is not installed, as upstream", () => {
  const p = planApis(all, undefined, {}, rules(0, 1));
  assert.deepEqual(p, { custom: false, external: true, resource: undefined, listsPods: false });
});

test("metrics.k8s.io: prometheus when the config has resourceRules, or the source asked for", () => {
  const withRules = { resourceRules: {} } as Parameters<typeof planApis>[2];
  assert.equal(planApis(all, undefined, withRules, rules(0, 0)).resource, "prometheus");
  assert.equal(planApis(all, "kubelet", {}, rules(0, 0)).resource, "kubelet");
  assert.equal(
    planApis({ ...all, resource: false }, "kubelet", {}, rules(0, 0)).resource,
    undefined,
  );
});

test("the pod cache is worth it when custom metrics or metrics.k8s.io are served", () => {
  assert.equal(planApis(all, undefined, {}, rules(1, 0)).listsPods, true);
  assert.equal(planApis({ ...all, custom: false }, undefined, {}, rules(1, 0)).listsPods, false);
  assert.equal(planApis(all, "kubelet", {}, rules(0, 0)).listsPods, true);
});
