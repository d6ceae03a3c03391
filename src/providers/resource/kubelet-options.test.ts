import assert from "node:assert/strict";
import { test } from "node:test";
import { kubeletFlagErrors, type KubeletFlags } from "./kubelet-options.ts";

const ok: KubeletFlags = { resolutionMs: 15_000, requestTimeoutMs: 10_000, insecureTls: false };

test("metrics-server's defaults and manifest values pass", () => {
  assert.deepEqual(kubeletFlagErrors(ok), []);
  assert.deepEqual(kubeletFlagErrors({ ...ok, resolutionMs: 60_000 }), []);
  assert.deepEqual(
    kubeletFlagErrors({
      ...ok,
      caFile: "/ca",
      clientCertFile: "/c",
      clientKeyFile: "/k",
      nodeSelector: " pool in (a,b),!spot ",
    }),
    [],
  );
});

test("the resolution is at least 10 s and leaves a tenth beyond the request timeout", () => {
  assert.deepEqual(kubeletFlagErrors({ ...ok, resolutionMs: 5_000, requestTimeoutMs: 1_000 }), [
    "metric-resolution should be a time duration at least 10s, but value 5s provided",
  ]);
  assert.deepEqual(kubeletFlagErrors({ ...ok, resolutionMs: 10_000 }), [
    "metric-resolution should be larger than kubelet-request-timeout, but metric-resolution value 10s kubelet-request-timeout value 10s provided",
  ]);
  assert.deepEqual(kubeletFlagErrors({ ...ok, resolutionMs: 10_000, requestTimeoutMs: 9_000 }), []);
  assert.deepEqual(kubeletFlagErrors({ ...ok, resolutionMs: 90_500, requestTimeoutMs: 0 }), [
    "kubelet-request-timeout should be positive",
  ]);
});

test("contradicting kubelet TLS flags are refused with metrics-server's words", () => {
  assert.deepEqual(kubeletFlagErrors({ ...ok, caFile: "/ca", insecureTls: true }), [
    "cannot use both --kubelet-certificate-authority and --kubelet-insecure-tls",
  ]);
  assert.deepEqual(kubeletFlagErrors({ ...ok, clientCertFile: "/c" }), [
    "need both --kubelet-client-key and --kubelet-client-certificate",
  ]);
  assert.deepEqual(kubeletFlagErrors({ ...ok, clientKeyFile: "/k", clientCertFile: "" }), [
    "need both --kubelet-client-key and --kubelet-client-certificate",
  ]);
});

test("a node selector that does not parse is refused", () => {
  const [e] = kubeletFlagErrors({ ...ok, nodeSelector: "a in (b" });
  assert.match(e ?? "", /^unable to parse requirement|found/);
  assert.deepEqual(kubeletFlagErrors({ ...ok, nodeSelector: "a=b,c!=d" }), []);
});
