import { test } from "node:test";
import assert from "node:assert/strict";
import { kubeconfigPath } from "./kubeconfig-path.ts";

test("the flag, then the first existing $KUBECONFIG file, then ~/.kube/config, then none", () => {
  const files = new Set(["/b", "/home/u/.kube/config"]);
  const exists = (p: string) => files.has(p);
  assert.equal(kubeconfigPath("/flag", { KUBECONFIG: "/b" }, exists, "/home/u"), "/flag");
  assert.equal(kubeconfigPath(undefined, { KUBECONFIG: "/a:/b" }, exists, "/home/u"), "/b");
  assert.equal(kubeconfigPath(undefined, {}, exists, "/home/u"), "/home/u/.kube/config");
  assert.equal(
    kubeconfigPath(undefined, {}, () => false, "/home/u"),
    undefined,
  );
});
