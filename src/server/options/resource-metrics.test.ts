import { test } from "node:test";
import assert from "node:assert/strict";
import { isKcmError } from "../../errors.ts";
import {
  resourceMetricsFlags,
  validateResourceMetrics,
  type ResourceMetricsFlagValues,
} from "./resource-metrics.ts";
import { parseFlags } from "./test-parse.ts";

const validate = (disabled: boolean, ...argv: string[]) =>
  validateResourceMetrics({
    ...parseFlags<ResourceMetricsFlagValues>(resourceMetricsFlags, argv),
    disableResourceMetrics: disabled,
  });

test("defaults: the source follows the config; metrics-server's kubelet defaults", () => {
  const c = validate(false);
  assert.equal(c.source, undefined);
  assert.deepEqual(c.kubelet, {
    scheme: "https",
    port: 10250,
    useNodeStatusPort: false,
    preferredAddressTypes: ["InternalIP", "ExternalIP", "Hostname"],
    insecureTls: false,
    caFile: undefined,
    clientCertFile: undefined,
    clientKeyFile: undefined,
    nodeSelector: undefined,
    timeoutMs: 10_000,
    resolutionMs: 15_000,
  });
  assert.equal(validate(false, "-l", "role=worker").kubelet.nodeSelector, "role=worker");
});

test("kubelet flags are checked as metrics-server does, every problem in one line", () => {
  const argv = [
    "--resource-metrics-source=kubelet",
    "--kubelet-insecure-tls",
    "--kubelet-certificate-authority=/ca",
    "--metric-resolution=5s",
  ];
  assert.throws(
    () => validate(false, ...argv),
    (e: unknown) =>
      isKcmError(e) &&
      e.code === "KCM_ERR_USAGE" &&
      e.message.startsWith(
        "cannot use both --kubelet-certificate-authority and --kubelet-insecure-tls; metric-resolution should be a time duration at least 10s, but value 5s provided; ",
      ),
  );
});

test("kubelet flags are not checked when they are not used", () => {
  assert.equal(
    validate(true, "--resource-metrics-source=kubelet", "--metric-resolution=5s").source,
    "kubelet",
  );
  assert.equal(
    validate(false, "--resource-metrics-source=prometheus", "--metric-resolution=5s").source,
    "prometheus",
  );
});
