/**
 * @module apis/custom-metrics.test
 * custom.metrics.k8s.io JSON shaping (v1beta1 vs v1beta2 items, selector null, "/v1", canonical
 * quantities), route parsing, the arrivals key, resource normalization and Status bodies, over a
 * fake provider.
 */
import { StatusError } from "../apimachinery/status.ts";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseRequirements } from "../apimachinery/label-selector-parser.ts";
import { RestMapper, type ResourceInfo } from "../kube/rest-mapper.ts";
import {
  type CustomMetricInfo,
  type CustomMetricValue,
  type CustomMetricsProvider,
} from "../providers/types.ts";
import { parseRequestTarget } from "../apimachinery/request-target.ts";
import {
  customMetricArrivalKey,
  customMetricsApi,
  metricValueList,
  parseCustomMetricRoute,
} from "./custom-metrics.ts";

const res = (
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
): ResourceInfo => ({
  group,
  version,
  resource,
  singular: kind.toLowerCase(),
  kind,
  namespaced,
  verbs: ["get", "list"],
});

const mapper = RestMapper.fromResources([
  res("", "v1", "pods", "Pod", true),
  res("", "v1", "namespaces", "Namespace", false),
  res("apps", "v1", "deployments", "Deployment", true),
]);

const AT = new Date("2024-05-06T07:08:09.999Z");

function value(o: Partial<CustomMetricValue> = {}): CustomMetricValue {
  return {
    describedObject: { kind: "Pod", namespace: "ns", name: "web-1", apiVersion: "/v1" },
    metric: "m",
    timestamp: AT,
    value: 0.016,
    selector: [],
    ...o,
  };
}

describe("metricValueList", () => {
  test("v1beta1: item keys in Go order, selector null, timestamp to the second", () => {
    assert.equal(
      JSON.stringify(metricValueList("v1beta1", [value()])),
      JSON.stringify({
        kind: "MetricValueList",
        apiVersion: "custom.metrics.k8s.io/v1beta1",
        metadata: {},
        items: [
          {
            describedObject: { kind: "Pod", namespace: "ns", name: "web-1", apiVersion: "/v1" },
            metricName: "m",
            timestamp: "2024-05-06T07:08:09Z",
            value: "16m",
            selector: null,
          },
        ],
      }),
    );
  });

  test("v1beta2: metric {name, selector}, no metricName", () => {
    assert.equal(
      JSON.stringify(
        metricValueList("v1beta2", [value({ selector: parseRequirements("b!=x,a=1,c") })]),
      ),
      JSON.stringify({
        kind: "MetricValueList",
        apiVersion: "custom.metrics.k8s.io/v1beta2",
        metadata: {},
        items: [
          {
            describedObject: { kind: "Pod", namespace: "ns", name: "web-1", apiVersion: "/v1" },
            metric: {
              name: "m",
              selector: {
                matchLabels: { a: "1" },
                matchExpressions: [
                  { key: "b", operator: "NotIn", values: ["x"] },
                  { key: "c", operator: "Exists" },
                ],
              },
            },
            timestamp: "2024-05-06T07:08:09Z",
            value: "16m",
          },
        ],
      }),
    );
  });

  test("root-scoped objects have no namespace key; window only when set", () => {
    const v = value({
      describedObject: { kind: "Namespace", name: "ns", apiVersion: "/v1" },
      windowSeconds: 60,
    });
    assert.equal(
      JSON.stringify(metricValueList("v1beta1", [v])),
      '{"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta1","metadata":{},"items":[{"describedObject":{"kind":"Namespace","name":"ns","apiVersion":"/v1"},"metricName":"m","timestamp":"2024-05-06T07:08:09Z","window":60,"value":"16m","selector":null}]}',
    );
    assert.equal(
      JSON.stringify(metricValueList("v1beta2", [v])),
      '{"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta2","metadata":{},"items":[{"describedObject":{"kind":"Namespace","name":"ns","apiVersion":"/v1"},"metric":{"name":"m","selector":null},"timestamp":"2024-05-06T07:08:09Z","windowSeconds":60,"value":"16m"}]}',
    );
  });

  test("values: int64(v*1000) milli-units in canonical DecimalSI", () => {
    const cases: [number, string][] = [
      [0.016, "16m"],
      [1, "1"],
      [20.5, "20500m"],
      [1500, "1500"],
      [2000, "2k"],
      [-1.5, "-1500m"],
      [0.0004, "0"],
      [Number.NaN, "0"],
      [0, "0"],
      [1e6, "1M"],
    ];
    for (const [v, s] of cases) {
      const list = metricValueList("v1beta1", [value({ value: v })]) as {
        items: { value: string }[];
      };
      assert.equal(list.items[0]?.value, s, String(v));
    }
  });

  test("items with different timestamps and selectors each keep their own", () => {
    const x = parseRequirements("a=1");
    const y = parseRequirements("b=2");
    const later = new Date("2024-05-06T07:08:10Z");
    for (const version of ["v1beta1", "v1beta2"]) {
      const items = [
        value({ selector: x }),
        value({ selector: x, timestamp: later }),
        value({ selector: y, timestamp: later }),
        value({ selector: x }),
      ];
      // Each item alone is the reference: a one-item list has nothing to share.
      const alone = items.map(
        (i) => (metricValueList(version, [i]) as { items: unknown[] }).items[0],
      );
      assert.equal(
        JSON.stringify((metricValueList(version, items) as { items: unknown[] }).items),
        JSON.stringify(alone),
      );
    }
  });

  test("an empty list is items: []", () => {
    assert.equal(
      JSON.stringify(metricValueList("v1beta2", [])),
      '{"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta2","metadata":{},"items":[]}',
    );
  });
});

describe("parseCustomMetricRoute", () => {
  test("the three path shapes", () => {
    assert.deepEqual(parseCustomMetricRoute(["nodes", "n1", "m"]), {
      namespace: "",
      resource: "nodes",
      name: "n1",
      metric: "m",
    });
    assert.deepEqual(parseCustomMetricRoute(["namespaces", "ns", "pods", "*", "m"]), {
      namespace: "ns",
      resource: "pods",
      name: "*",
      metric: "m",
    });
    // The namespace's own metric: resource namespaces, name ns, no namespace.
    assert.deepEqual(parseCustomMetricRoute(["namespaces", "ns", "metrics", "m"]), {
      namespace: "",
      resource: "namespaces",
      name: "ns",
      metric: "m",
    });
  });
  test("anything else is not a route", () => {
    for (const s of [
      [],
      ["pods"],
      ["pods", "p"],
      ["namespaces", "ns", "pods", "p"],
      ["namespaces", "ns", "pods", "p", "m", "x"],
      ["other", "ns", "pods", "p", "m"],
      ["pods", "", "m"],
    ]) {
      assert.equal(parseCustomMetricRoute(s), undefined, s.join("/"));
    }
  });
});

describe("customMetricArrivalKey", () => {
  test("custom-metrics paths key by resource and metric; others have no key", () => {
    const key = (path: string) => customMetricArrivalKey(parseRequestTarget(path));
    assert.equal(key("/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/%2A/rps"), "pods/rps");
    assert.equal(key("/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns/pods/*/rps"), "pods/rps");
    assert.equal(
      key("/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/deployments.apps/web/m"),
      "deployments.apps/m",
    );
    assert.equal(key("/apis/custom.metrics.k8s.io/v1beta2/nodes/n1/m"), "nodes/m");
    assert.equal(
      key("/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/metrics/m"),
      "namespaces/m",
    );
    assert.equal(key("/apis/custom.metrics.k8s.io/v1beta2"), undefined);
    assert.equal(key("/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/queue"), undefined);
    assert.equal(key("/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods"), undefined);
  });
});

/** A provider that records calls and answers from a table. */
function fakeProvider(values: Record<string, number>) {
  const calls: unknown[] = [];
  const tickets: unknown[] = [];
  const provider: CustomMetricsProvider = {
    listAllMetrics: (): CustomMetricInfo[] => [
      { groupResource: { group: "", resource: "pods" }, namespaced: true, metric: "m" },
      { groupResource: { group: "apps", resource: "deployments" }, namespaced: true, metric: "d" },
      { groupResource: { group: "", resource: "namespaces" }, namespaced: false, metric: "m" },
    ],
    getMetricByName(namespace, name, info, metricSelector, ticket) {
      calls.push({ namespace, name, info, metricSelector: metricSelector.length });
      tickets.push(ticket);
      const v = values[name];
      if (v === undefined) return Promise.reject(new Error("no value"));
      return Promise.resolve(value({ value: v }));
    },
    getMetricBySelector(namespace, selector, info, _metricSelector, ticket) {
      calls.push({ namespace, selector, info });
      tickets.push(ticket);
      return Promise.resolve([]);
    },
  };
  return { provider, calls, tickets };
}

async function statusOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    if (e instanceof StatusError) return e.status;
    throw e;
  }
  throw new Error("expected a StatusError");
}

const q = (s = "") => new URLSearchParams(s);

describe("customMetricsApi", () => {
  const { provider, calls, tickets } = fakeProvider({ "web-1": 2 });
  const api = customMetricsApi(provider, mapper);

  test("discovery: name = GroupResource.String()/metric", () => {
    assert.equal(
      JSON.stringify(api.resourceList("v1beta1")),
      JSON.stringify({
        kind: "APIResourceList",
        apiVersion: "v1",
        groupVersion: "custom.metrics.k8s.io/v1beta1",
        resources: [
          {
            name: "pods/m",
            singularName: "",
            namespaced: true,
            kind: "MetricValueList",
            verbs: ["get"],
          },
          {
            name: "deployments.apps/d",
            singularName: "",
            namespaced: true,
            kind: "MetricValueList",
            verbs: ["get"],
          },
          {
            name: "namespaces/m",
            singularName: "",
            namespaced: false,
            kind: "MetricValueList",
            verbs: ["get"],
          },
        ],
      }),
    );
  });

  test("a singular or grouped resource is normalized before the provider sees it", async () => {
    calls.length = 0;
    const r = await api.handle("v1beta1", {
      method: "GET",
      segments: ["namespaces", "ns", "pod", "web-1", "m"],
      query: q(),
    });
    assert.equal(r.status, 200);
    await api.handle("v1beta2", {
      method: "GET",
      segments: ["namespaces", "ns", "deployment.apps", "web-1", "d"],
      query: q("metricLabelSelector=a%3D1"),
    });
    assert.deepEqual(calls, [
      {
        namespace: "ns",
        name: "web-1",
        info: { groupResource: { group: "", resource: "pods" }, namespaced: true, metric: "m" },
        metricSelector: 0,
      },
      {
        namespace: "ns",
        name: "web-1",
        info: {
          groupResource: { group: "apps", resource: "deployments" },
          namespaced: true,
          metric: "d",
        },
        metricSelector: 1,
      },
    ]);
  });

  test("namespaces/{ns}/metrics/{m} asks for the namespace object, root-scoped", async () => {
    calls.length = 0;
    await statusOf(
      api.handle("v1beta1", {
        method: "GET",
        segments: ["namespaces", "team-a", "metrics", "m"],
        query: q(),
      }),
    ).catch(() => undefined);
    assert.deepEqual(calls, [
      {
        namespace: "",
        name: "team-a",
        info: {
          groupResource: { group: "", resource: "namespaces" },
          namespaced: false,
          metric: "m",
        },
        metricSelector: 0,
      },
    ]);
  });

  test("`*` passes the labelSelector text to the provider", async () => {
    calls.length = 0;
    const r = await api.handle("v1beta1", {
      method: "GET",
      segments: ["namespaces", "ns", "pods", "*", "m"],
      query: q("labelSelector=app%3Dweb"),
    });
    assert.equal(JSON.stringify(r.body), JSON.stringify(metricValueList("v1beta1", [])));
    assert.deepEqual(calls, [
      {
        namespace: "ns",
        selector: "app=web",
        info: { groupResource: { group: "", resource: "pods" }, namespaced: true, metric: "m" },
      },
    ]);
  });

  test("the request's arrival ticket goes to the provider, named object or `*`", async () => {
    tickets.length = 0;
    const ticket = { key: "pods/m", seq: 7 };
    for (const name of ["web-1", "*"]) {
      await api.handle("v1beta2", {
        method: "GET",
        segments: ["namespaces", "ns", "pods", name, "m"],
        query: q(),
        ticket,
      });
    }
    await api.handle("v1beta2", {
      method: "GET",
      segments: ["namespaces", "ns", "pods", "*", "m"],
      query: q(),
    });
    assert.deepEqual(tickets, [ticket, ticket, undefined]);
  });

  test("Status bodies: unknown route, unknown resource, bad selectors", async () => {
    const call = (segments: string[], query = "") =>
      statusOf(api.handle("v1beta1", { method: "GET", segments, query: q(query) }));
    assert.equal(
      JSON.stringify(await call(["namespaces", "ns", "pods", "p"])),
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}',
    );
    assert.equal(
      JSON.stringify(await call(["namespaces", "ns", "widgets.example.com", "p", "m"])),
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the metric m for widgets.example.com","reason":"NotFound","code":404}',
    );
    assert.equal(
      JSON.stringify(await call(["namespaces", "ns", "pods", "*", "m"], "labelSelector=a%20b")),
      `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt","reason":"BadRequest","code":400}`,
    );
    // The generic apiserver's answer to a non-Status error: 500, no reason.
    assert.equal(
      JSON.stringify(
        await call(["namespaces", "ns", "pods", "p", "m"], "metricLabelSelector=a%20b"),
      ),
      `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt","code":500}`,
    );
  });

  test("versions: both served, v1beta1 advertised", () => {
    assert.deepEqual(api.versions, ["v1beta2", "v1beta1"]);
    assert.deepEqual(api.advertisedVersions, ["v1beta1"]);
  });
});
