import { test } from "node:test";
import assert from "node:assert/strict";
import { goDirective, ldflags, stagingModules, wrapperGoMod } from "./kube-binaries.ts";

// The shape of k8s.io/kubernetes' go.mod: staging modules required at v0.0.0 and replaced by folders.
const KUBE_GO_MOD = `module k8s.io/kubernetes

go 1.26.0

require (
	k8s.io/api v0.0.0
	k8s.io/kube-openapi v0.0.0-20260317180543-43fb72c5454a
	k8s.io/streaming v0.0.0
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/sample-controller => ./staging/src/k8s.io/sample-controller
	k8s.io/streaming => ./staging/src/k8s.io/streaming
)
`;

test("staging modules are the ones replaced by staging folders, pseudo-versions excluded", () => {
  assert.deepEqual(stagingModules(KUBE_GO_MOD), [
    "k8s.io/api",
    "k8s.io/sample-controller",
    "k8s.io/streaming",
  ]);
  assert.equal(goDirective(KUBE_GO_MOD), "1.26.0");
});

test("the wrapper module pins each staging module to v0.<minor>.<patch>", () => {
  const mod = wrapperGoMod("v1.36.3", KUBE_GO_MOD);
  assert.match(mod, /^require k8s\.io\/kubernetes v1\.36\.3$/m);
  assert.match(mod, /^replace k8s\.io\/api => k8s\.io\/api v0\.36\.3$/m);
  assert.match(
    mod,
    /^replace k8s\.io\/sample-controller => k8s\.io\/sample-controller v0\.36\.3$/m,
  );
  assert.match(mod, /^go 1\.26\.0$/m);
  assert.doesNotMatch(mod, /kube-openapi/);
});

test("binaries are stamped with their real version", () => {
  const flags = ldflags("v1.36.3");
  assert.match(flags, /-X k8s\.io\/component-base\/version\.gitVersion=v1\.36\.3/);
  assert.match(flags, /gitMajor=1 /);
  assert.match(flags, /gitMinor=36 /);
  assert.throws(() => ldflags("1.36"), /not a release version/);
});
