/**
 * @module server/handlers.test
 * The arrivals key a custom-metrics request is ticketed under, from its path.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseRequestTarget } from "../apimachinery/request-target.ts";
import { customMetricArrivalKey } from "./handlers.ts";

test("custom-metrics paths key by resource and metric; others have no key", () => {
  const key = (path: string) => customMetricArrivalKey(parseRequestTarget(path).segments);
  assert.equal(key("/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/%2A/rps"), "pods/rps");
  assert.equal(key("/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns/pods/*/rps"), "pods/rps");
  assert.equal(
    key("/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/deployments.apps/web/m"),
    "deployments.apps/m",
  );
  assert.equal(key("/apis/custom.metrics.k8s.io/v1beta2/nodes/n1/m"), "nodes/m");
  assert.equal(key("/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/metrics/m"), "namespaces/m");
  assert.equal(key("/apis/custom.metrics.k8s.io/v1beta2"), undefined);
  assert.equal(key("/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/queue"), undefined);
  assert.equal(key("/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods"), undefined);
});
