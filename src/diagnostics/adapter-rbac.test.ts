import { test } from "node:test";
import assert from "node:assert/strict";
import { bindsServiceAccount, judgeRbac } from "./adapter-rbac.ts";

const sa = { namespace: "custom-metrics", name: "k8s-custom-metrics" };

test("a binding names a service account directly or through its groups", () => {
  assert.ok(bindsServiceAccount({ subjects: [{ kind: "ServiceAccount", ...sa }] }, sa));
  assert.ok(
    bindsServiceAccount(
      { subjects: [{ kind: "Group", name: "system:serviceaccounts:custom-metrics" }] },
      sa,
    ),
  );
  assert.ok(
    !bindsServiceAccount(
      { subjects: [{ kind: "ServiceAccount", namespace: "other", name: sa.name }] },
      sa,
    ),
  );
  assert.ok(!bindsServiceAccount({}, sa));
});

test("denied permissions fail with the binding to create; allowed ones pass", () => {
  const checks = judgeRbac(sa, [
    { id: "auth-reader", denied: ["get", "watch"], standardBinding: false },
    { id: "auth-delegator", denied: [], standardBinding: true },
    { id: "pod-reader", denied: ["watch"], standardBinding: undefined },
  ]);
  assert.deepEqual(
    checks.map((c) => [c.status, c.kind]),
    [
      ["fail", "no-auth-reader"],
      ["ok", undefined],
      ["fail", "no-pod-reader"],
    ],
  );
  assert.match(
    checks[0]?.cause ?? "",
    /no RoleBinding in kube-system to Role extension-apiserver-authentication-reader/,
  );
  assert.equal(
    checks[0]?.fix,
    "kubectl create rolebinding -n kube-system k8s-custom-metrics-auth-reader --role=extension-apiserver-authentication-reader --serviceaccount=custom-metrics:k8s-custom-metrics",
  );
});

test("allowed only through a broader role is a warning naming the missing binding", () => {
  const [c] = judgeRbac(sa, [{ id: "auth-reader", denied: [], standardBinding: false }]);
  assert.equal(c?.status, "warn");
  assert.equal(c.kind, "auth-reader-binding-missing");
  assert.match(c.title, /only through a broader role/);
});
