import { test } from "node:test";
import assert from "node:assert/strict";
import { apisFlags, validateApis, type ApisFlagValues } from "./apis.ts";
import { configFileFlags, validateConfigFile, type ConfigFileFlagValues } from "./config-file.ts";
import { kubeFlags, validateKube, type KubeFlagValues } from "./kube.ts";
import { parseFlags } from "./test-parse.ts";

test("config file: reload only with a file, unless disabled; strict on request", () => {
  const v = (...argv: string[]) =>
    validateConfigFile(parseFlags<ConfigFileFlagValues>(configFileFlags, argv));
  assert.deepEqual(v(), { path: undefined, reload: false, strict: false });
  assert.deepEqual(v("--config=/c.yaml"), { path: "/c.yaml", reload: true, strict: false });
  assert.deepEqual(v("--config=/c.yaml", "--disable-config-reload", "--strict-config"), {
    path: "/c.yaml",
    reload: false,
    strict: true,
  });
});

test("kube: in-cluster by default, discovery every 10m, the pod cache on unless turned off", () => {
  const v = (...argv: string[]) => validateKube(parseFlags<KubeFlagValues>(kubeFlags, argv));
  assert.deepEqual(v(), { kubeconfig: undefined, discoveryIntervalMs: 600_000, podCache: true });
  assert.equal(v("--no-pod-cache").podCache, false);
  assert.equal(v("--pod-cache=false").podCache, false);
  assert.equal(v("--pod-cache").podCache, true);
  assert.equal(v("--lister-kubeconfig=/k", "--discovery-interval=1m").discoveryIntervalMs, 60_000);
});

test("apis: all three unless disabled", () => {
  const v = (...argv: string[]) => validateApis(parseFlags<ApisFlagValues>(apisFlags, argv));
  assert.deepEqual(v(), { custom: true, external: true, resource: true });
  assert.deepEqual(v("--disable-external-metrics", "--disable-resource-metrics"), {
    custom: true,
    external: false,
    resource: false,
  });
});
