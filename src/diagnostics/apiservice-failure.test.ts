import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeApiServiceFailure, type ApiServiceContext } from "./apiservice-failure.ts";

const ctx: ApiServiceContext = {
  name: "v1beta1.custom.metrics.k8s.io",
  group: "custom.metrics.k8s.io",
  version: "v1beta1",
  service: { namespace: "custom-metrics", name: "k8s-custom-metrics" },
  serviceAccount: "custom-metrics:k8s-custom-metrics",
};

// Condition texts as kube-aggregator v1.36 writes them (collected from the local cluster).
const failed = (message: string) => ({ reason: "FailedDiscoveryCheck", message });

test("a Service that does not exist", () => {
  const d = decodeApiServiceFailure(
    { reason: "ServiceNotFound", message: 'service/nope in "custom-metrics" is not present' },
    { ...ctx, service: { namespace: "custom-metrics", name: "nope" } },
  );
  assert.equal(d.kind, "service-not-found");
  assert.match(d.cause, /Service custom-metrics\/nope, which does not exist/);
  assert.match(d.fix, /kubectl patch apiservice v1beta1\.custom\.metrics\.k8s\.io/);
});

test("no endpoints and a port the Service lacks", () => {
  assert.equal(
    decodeApiServiceFailure(
      {
        reason: "MissingEndpoints",
        message:
          'endpointslices for service/k8s-custom-metrics in "custom-metrics" have no addresses with port name "https"',
      },
      ctx,
    ).kind,
    "no-endpoints",
  );
  assert.equal(
    decodeApiServiceFailure(
      { reason: "EndpointsNotFound", message: "cannot find endpointslices" },
      ctx,
    ).kind,
    "no-endpoints",
  );
  const port = decodeApiServiceFailure(
    {
      reason: "ServicePortError",
      message: 'service/k8s-custom-metrics in "custom-metrics" is not listening on port 8443',
    },
    ctx,
  );
  assert.equal(port.kind, "service-port");
  assert.match(port.cause, /no port 8443/);
});

test("a caBundle that did not sign the serving certificate", () => {
  const d = decodeApiServiceFailure(
    failed(
      'failing or missing response from https://localhost:32444/apis/custom.metrics.k8s.io/v1beta1: Get "https://localhost:32444/apis/custom.metrics.k8s.io/v1beta1": tls: failed to verify certificate: x509: certificate signed by unknown authority',
    ),
    ctx,
  );
  assert.equal(d.kind, "tls-unknown-authority");
  assert.match(d.cause, /not signed by APIService v1beta1\.custom\.metrics\.k8s\.io's caBundle/);
  assert.match(d.fix, /caBundle/);
});

test("a certificate for another Service name", () => {
  const d = decodeApiServiceFailure(
    failed(
      'failing or missing response from https://localhost:32444/apis/external.metrics.k8s.io/v1beta1: Get "https://localhost:32444/apis/external.metrics.k8s.io/v1beta1": tls: failed to verify certificate: x509: certificate is valid for k8s-custom-metrics.custom-metrics.svc, localhost, not keda-metrics-apiserver.keda.svc',
    ),
    ctx,
  );
  assert.equal(d.kind, "tls-name-mismatch");
  assert.match(d.cause, /not keda-metrics-apiserver\.keda\.svc/);
  assert.match(d.fix, /keda-metrics-apiserver\.keda\.svc among its DNS names/);
});

test("401 and 403 from the adapter point at the delegated-auth bindings", () => {
  const u = decodeApiServiceFailure(
    failed(
      "failing or missing response from https://10.0.0.7:6443/apis/custom.metrics.k8s.io/v1beta1: bad status from https://10.0.0.7:6443/apis/custom.metrics.k8s.io/v1beta1: 401",
    ),
    ctx,
  );
  assert.equal(u.kind, "unauthorized");
  assert.match(u.cause, /extension-apiserver-authentication-reader/);
  assert.match(
    u.fix,
    /kubectl create rolebinding -n kube-system k8s-custom-metrics-auth-reader --role=extension-apiserver-authentication-reader --serviceaccount=custom-metrics:k8s-custom-metrics/,
  );
  const f = decodeApiServiceFailure(
    failed("bad status from https://10.0.0.7:6443/apis/custom.metrics.k8s.io/v1beta1: 403"),
    ctx,
  );
  assert.equal(f.kind, "forbidden");
  assert.match(f.cause, /system:auth-delegator/);
  assert.match(f.fix, /--clusterrole=system:auth-delegator/);
});

test("404, 5xx, refused, timeouts and DNS", () => {
  const kind = (m: string) => decodeApiServiceFailure(failed(m), ctx).kind;
  assert.equal(
    kind("bad status from https://x:443/apis/external.metrics.k8s.io/v1beta1: 404"),
    "not-served",
  );
  assert.equal(
    kind("bad status from https://x:443/apis/custom.metrics.k8s.io/v1beta1: 503"),
    "adapter-error",
  );
  assert.equal(
    kind(
      'failing or missing response from https://localhost:1/apis/custom.metrics.k8s.io/v1beta1: Get "https://localhost:1/apis/custom.metrics.k8s.io/v1beta1": dial tcp 127.0.0.1:1: connect: connection refused',
    ),
    "connection-refused",
  );
  assert.equal(
    kind("timed out waiting for https://10.96.0.9:443/apis/custom.metrics.k8s.io/v1beta1"),
    "timeout",
  );
  assert.equal(
    kind(
      'Get "https://10.96.0.9:443/apis/custom.metrics.k8s.io/v1beta1": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
    ),
    "timeout",
  );
  assert.equal(kind("dial tcp: lookup adapter.example: no such host"), "dns");
  assert.equal(
    kind("x509: certificate has expired or is not yet valid: current time …"),
    "tls-expired",
  );
});

test("anything else keeps the message and says where to look", () => {
  const d = decodeApiServiceFailure({ reason: "Weird", message: "something new" }, ctx);
  assert.equal(d.kind, "unknown");
  assert.equal(d.cause, "something new");
  assert.match(d.fix, /kubectl describe apiservice v1beta1\.custom\.metrics\.k8s\.io/);
});
