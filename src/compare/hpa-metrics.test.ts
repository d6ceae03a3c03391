import { test } from "node:test";
import assert from "node:assert/strict";
import {
  metricProbes,
  requestPath,
  tolerancesOf,
  type HpaJson,
  type MetricProbe,
} from "./hpa-metrics.ts";

const hpa = (
  metrics: NonNullable<HpaJson["spec"]["metrics"]>,
  behavior?: HpaJson["spec"]["behavior"],
): HpaJson => ({
  metadata: { namespace: "shop", name: "web" },
  spec: {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
    maxReplicas: 5,
    metrics,
    ...(behavior === undefined ? {} : { behavior }),
  },
});
const resourceOf = (group: string, kind: string) =>
  group === "" && kind === "Service"
    ? "services"
    : group === "apps" && kind === "Deployment"
      ? "deployments"
      : undefined;

function only(p: (MetricProbe | Error)[]): MetricProbe {
  const [x] = p;
  assert.ok(x && !(x instanceof Error), x instanceof Error ? x.message : "no probe");
  return x;
}

test("Pods: the scale selector as labelSelector, the metric's as metricLabelSelector, * as %2A", () => {
  const p = only(
    metricProbes(
      hpa([
        {
          type: "Pods",
          pods: {
            metric: { name: "rps", selector: { matchLabels: { verb: "GET" } } },
            target: { type: "AverageValue", averageValue: "500m" },
          },
        },
      ]),
      "app=web",
      resourceOf,
    ),
  );
  assert.equal(p.target.milli, 500);
  assert.equal(p.label, "pods/rps{verb=GET}");
  assert.equal(
    requestPath(p.request, "v1beta2"),
    "/apis/custom.metrics.k8s.io/v1beta2/namespaces/shop/pods/%2A/rps?labelSelector=app%3Dweb&metricLabelSelector=verb%3DGET",
  );
});

test("Object: the describedObject's group-resource; Namespace is root-scoped", () => {
  const [svc, ns, bad] = metricProbes(
    hpa([
      {
        type: "Object",
        object: {
          describedObject: { apiVersion: "v1", kind: "Service", name: "front" },
          metric: { name: "rps" },
          target: { type: "Value", value: "10" },
        },
      },
      {
        type: "Object",
        object: {
          describedObject: { apiVersion: "v1", kind: "Namespace", name: "ignored" },
          metric: { name: "jobs" },
          target: { type: "AverageValue", averageValue: "2" },
        },
      },
      {
        type: "Object",
        object: {
          describedObject: { apiVersion: "x.io/v1", kind: "Widget", name: "w" },
          metric: { name: "m" },
          target: { type: "Value", value: "1" },
        },
      },
    ]),
    "app=web",
    resourceOf,
  );
  assert.ok(svc && !(svc instanceof Error) && ns && !(ns instanceof Error));
  assert.deepEqual(svc.request.segments, ["namespaces", "shop", "services", "front", "rps"]);
  assert.deepEqual(svc.request.query, {});
  assert.deepEqual(ns.request.segments, ["namespaces", "shop", "metrics", "jobs"]);
  assert.ok(bad instanceof Error && /no resource of kind Widget in x.io/.test(bad.message));
});

test("External and Resource requests, targets and tolerances", () => {
  const [ext, res, cres] = metricProbes(
    hpa(
      [
        {
          type: "External",
          external: {
            metric: {
              name: "queue",
              selector: { matchExpressions: [{ key: "q", operator: "In", values: ["b", "a"] }] },
            },
            target: { type: "AverageValue", averageValue: "10" },
          },
        },
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } },
        },
        {
          type: "ContainerResource",
          containerResource: {
            name: "memory",
            container: "app",
            target: { type: "AverageValue", averageValue: "1Gi" },
          },
        },
      ],
      { scaleUp: { tolerance: "0.05" } },
    ),
    "app=web",
    resourceOf,
  );
  assert.ok(
    ext &&
      !(ext instanceof Error) &&
      res &&
      !(res instanceof Error) &&
      cres &&
      !(cres instanceof Error),
  );
  assert.equal(
    requestPath(ext.request, ext.request.version),
    "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/queue?labelSelector=q+in+%28a%2Cb%29",
  );
  assert.equal(res.target.utilization, 60);
  assert.equal(
    requestPath(res.request, res.request.version),
    "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods?labelSelector=app%3Dweb",
  );
  assert.equal(cres.container, "app");
  assert.equal(cres.target.milli, 1024 ** 3 * 1000);
  assert.deepEqual(tolerancesOf(hpa([], { scaleUp: { tolerance: "0.05" } })), {
    scaleUp: 0.05,
    scaleDown: 0.1,
  });
});
