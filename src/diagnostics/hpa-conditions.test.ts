import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeHpaFailure, type HpaCondition } from "./hpa-conditions.ts";

const ok: HpaCondition = { type: "AbleToScale", status: "True", reason: "SucceededGetScale" };

function active(reason: string, err: string): HpaCondition[] {
  return [
    ok,
    {
      type: "ScalingActive",
      status: "False",
      reason,
      message: `the HPA was unable to compute the replica count: ${err}`,
    },
  ];
}

test("an HPA that computes replicas, or is scaled to zero on purpose, has no failure", () => {
  assert.equal(
    decodeHpaFailure([ok, { type: "ScalingActive", status: "True", reason: "ValidMetricFound" }]),
    undefined,
  );
  assert.equal(
    decodeHpaFailure([ok, { type: "ScalingActive", status: "False", reason: "ScalingDisabled" }]),
    undefined,
  );
});

test("a metric the adapter does not list, with a suggestion from the listed names", () => {
  const f = decodeHpaFailure(
    active(
      "FailedGetPodsMetric",
      "unable to get metric http_request_per_second: unable to fetch metrics from custom metrics API: the server could not find the metric http_request_per_second for pods",
    ),
    { listedMetrics: (r) => (r === "pods" ? ["http_requests_per_second", "cpu_usage"] : []) },
  );
  assert.ok(f);
  assert.equal(f.kind, "metric-not-found");
  assert.equal(f.metric, "http_request_per_second");
  assert.equal(f.condition, "ScalingActive=False FailedGetPodsMetric");
  assert.match(
    f.cause,
    /no metric for pods named "http_request_per_second"; did you mean "http_requests_per_second"\?/,
  );
  assert.match(f.fix, /validate --config/);
});

test("the API layer: not registered, not served, unavailable, forbidden", () => {
  const kind = (reason: string, err: string) => decodeHpaFailure(active(reason, err))?.kind;
  assert.equal(
    kind(
      "FailedGetPodsMetric",
      "unable to get metric m: no custom metrics API (custom.metrics.k8s.io) registered",
    ),
    "api-not-registered",
  );
  assert.equal(
    kind(
      "FailedGetPodsMetric",
      "unable to get metric m: unable to fetch metrics from custom metrics API: the server could not find the requested resource (get pods.custom.metrics.k8s.io *)",
    ),
    "api-not-served",
  );
  assert.equal(
    kind(
      "FailedGetExternalMetric",
      "unable to get external metric ns/q/&LabelSelector{MatchLabels:map[string]string{},MatchExpressions:[]LabelSelectorRequirement{},}: unable to fetch metrics from external metrics API: the server is currently unable to handle the request (get q.external.metrics.k8s.io)",
    ),
    "api-unavailable",
  );
  assert.equal(
    kind(
      "FailedGetPodsMetric",
      'unable to get metric m: unable to fetch metrics from custom metrics API: pods.custom.metrics.k8s.io "*" is forbidden: User "system:serviceaccount:kube-system:horizontal-pod-autoscaler" cannot get resource "pods/m" in API group "custom.metrics.k8s.io" in the namespace "ns"',
    ),
    "forbidden",
  );
});

test("values: query failures, no samples, pods without samples, missing requests", () => {
  const kind = (reason: string, err: string) => decodeHpaFailure(active(reason, err))?.kind;
  assert.equal(
    kind(
      "FailedGetPodsMetric",
      "unable to get metric m: unable to fetch metrics from custom metrics API: Internal error occurred: unable to fetch metrics",
    ),
    "adapter-query-failed",
  );
  assert.equal(
    kind(
      "FailedGetPodsMetric",
      "unable to get metric m: no metrics returned from custom metrics API",
    ),
    "no-samples",
  );
  assert.equal(
    kind(
      "FailedGetPodsMetric",
      "did not receive metrics for targeted pods (pods might be unready)",
    ),
    "pods-without-samples",
  );
  assert.equal(
    kind(
      "FailedGetResourceMetric",
      "unable to get metrics for resource cpu: no metrics returned from resource metrics API",
    ),
    "no-samples",
  );
  assert.equal(
    kind("FailedGetPodsMetric", "no pods returned by selector while calculating replica count"),
    "no-pods",
  );
  const req = decodeHpaFailure(
    active(
      "FailedGetResourceMetric",
      "failed to get cpu utilization: missing request for cpu in container app of Pod web-1",
    ),
  );
  assert.equal(req?.kind, "missing-request");
  assert.match(req.cause, /container app of pod web-1 has no cpu request/);
});

test("a scale target that does not exist", () => {
  const f = decodeHpaFailure([
    {
      type: "AbleToScale",
      status: "False",
      reason: "FailedGetScale",
      message:
        'the HPA controller was unable to get the target\'s current scale: deployments.apps "web" not found',
    },
  ]);
  assert.equal(f?.kind, "scale-target");
  assert.match(f.cause, /cannot read its target's scale: deployments\.apps "web" not found/);
});
