import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseRequestTarget } from "../apimachinery/request-target.ts";
import { requestAttributes as attributesOf, RequestInfoError } from "./request-attributes.ts";

const requestAttributes = (method: string, path: string, query: string | URLSearchParams) =>
  attributesOf(method, parseRequestTarget(`${path}?${query.toString()}`));

type Row = [
  method: string,
  path: string,
  query: string,
  expected: {
    verb: string;
    group?: string;
    version?: string;
    namespace?: string;
    resource?: string;
    name?: string;
    subresource?: string;
  },
];

// Cases from requestinfo_test.go plus the adapter's own routes.
const resourceRows: Row[] = [
  [
    "GET",
    "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/%2A/m",
    "",
    {
      verb: "get",
      group: "custom.metrics.k8s.io",
      version: "v1beta2",
      namespace: "ns",
      resource: "pods",
      name: "*",
      subresource: "m",
    },
  ],
  [
    "GET",
    "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/web-1/m",
    "labelSelector=app%3Dweb",
    { verb: "get", namespace: "ns", resource: "pods", name: "web-1", subresource: "m" },
  ],
  [
    "GET",
    "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/metrics/m",
    "",
    { verb: "get", namespace: "ns", resource: "metrics", name: "m" },
  ],
  [
    "GET",
    "/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns",
    "",
    {
      verb: "get",
      group: "custom.metrics.k8s.io",
      namespace: "ns",
      resource: "namespaces",
      name: "ns",
    },
  ],
  [
    "GET",
    "/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns/metrics",
    "",
    // Not the namespace's subresource: `metrics` in namespace ns, as a collection.
    { verb: "list", namespace: "ns", resource: "metrics", name: "", subresource: "" },
  ],
  [
    "GET",
    "/apis/custom.metrics.k8s.io/v1beta1/nodes/%2A/cpu",
    "",
    { verb: "get", namespace: "", resource: "nodes", name: "*", subresource: "cpu" },
  ],
  [
    "GET",
    "/apis/custom.metrics.k8s.io/v1beta1/namespaces/%2A/qps",
    "",
    { verb: "list", namespace: "*", resource: "qps", name: "" },
  ],
  [
    "GET",
    "/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/queue_length",
    "labelSelector=q%3Dx",
    {
      verb: "list",
      group: "external.metrics.k8s.io",
      version: "v1beta1",
      namespace: "ns",
      resource: "queue_length",
      name: "",
    },
  ],
  [
    "GET",
    "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods",
    "",
    { verb: "list", group: "metrics.k8s.io", namespace: "ns", resource: "pods" },
  ],
  [
    "GET",
    "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods/p1",
    "",
    { verb: "get", namespace: "ns", resource: "pods", name: "p1" },
  ],
  [
    "GET",
    "/apis/metrics.k8s.io/v1beta1/nodes/n",
    "",
    { verb: "get", namespace: "", resource: "nodes", name: "n" },
  ],
  ["GET", "/apis/metrics.k8s.io/v1beta1/nodes", "", { verb: "list", resource: "nodes" }],
  // requestinfo_test.go
  [
    "GET",
    "/api/v1/namespaces",
    "",
    { verb: "list", group: "", version: "v1", resource: "namespaces" },
  ],
  ["GET", "/api/v1/namespaces/other", "", { verb: "get", resource: "namespaces", name: "other" }],
  [
    "GET",
    "/api/v1/namespaces/other/pods",
    "",
    { verb: "list", namespace: "other", resource: "pods" },
  ],
  [
    "GET",
    "/api/v1/namespaces/other/pods/foo",
    "",
    { verb: "get", namespace: "other", resource: "pods", name: "foo" },
  ],
  ["HEAD", "/api/v1/namespaces/other/pods/foo", "", { verb: "get", name: "foo" }],
  ["GET", "/api/v1/pods", "watch=true", { verb: "watch", namespace: "", resource: "pods" }],
  ["GET", "/api/v1/pods", "watch=false", { verb: "list", resource: "pods" }],
  ["GET", "/api/v1/pods", "watch=0", { verb: "list", resource: "pods" }],
  ["GET", "/api/v1/pods", "watch=FALSE", { verb: "list", resource: "pods" }],
  ["GET", "/api/v1/pods", "watch=1", { verb: "watch", resource: "pods" }],
  ["GET", "/api/v1/pods", "watch=", { verb: "watch", resource: "pods" }],
  [
    "GET",
    "/api/v1/namespaces/other/pods",
    "watch=true&labelSelector=%3D%3D%3D",
    { verb: "watch", resource: "pods" },
  ],
  ["GET", "/api/v1/watch/pods", "", { verb: "watch", namespace: "", resource: "pods" }],
  [
    "GET",
    "/api/v1/watch/namespaces/other/pods",
    "",
    { verb: "watch", namespace: "other", resource: "pods" },
  ],
  [
    "GET",
    "/api/v1/proxy/namespaces/other/pods/foo/a/b",
    "",
    { verb: "proxy", namespace: "other", resource: "pods", name: "foo", subresource: "" },
  ],
  [
    "GET",
    "/api/v1/namespaces/other/pods/foo/status",
    "",
    { verb: "get", name: "foo", subresource: "status" },
  ],
  [
    "GET",
    "/api/v1/namespaces/other/finalize",
    "",
    {
      verb: "get",
      namespace: "other",
      resource: "namespaces",
      name: "other",
      subresource: "finalize",
    },
  ],
  [
    "GET",
    "/api/v1/namespaces/other/status",
    "",
    {
      verb: "get",
      namespace: "other",
      resource: "namespaces",
      name: "other",
      subresource: "status",
    },
  ],
  [
    "POST",
    "/api/v1/namespaces/other/pods",
    "",
    { verb: "create", namespace: "other", resource: "pods" },
  ],
  ["PUT", "/api/v1/namespaces/other/pods/foo", "", { verb: "update", name: "foo" }],
  ["PATCH", "/api/v1/namespaces/other/pods/foo", "", { verb: "patch", name: "foo" }],
  ["DELETE", "/api/v1/namespaces/other/pods/foo", "", { verb: "delete", name: "foo" }],
  ["DELETE", "/api/v1/namespaces/other/pods", "", { verb: "deletecollection", resource: "pods" }],
  ["OPTIONS", "/api/v1/namespaces/other/pods", "", { verb: "", resource: "pods" }],
  [
    "GET",
    "/apis/extensions/v1beta1/namespaces/other/pods",
    "",
    { verb: "list", group: "extensions", version: "v1beta1", resource: "pods" },
  ],
  // A field selector on metadata.name names the object (but not when the options don't decode).
  [
    "GET",
    "/api/v1/namespaces/other/pods",
    "fieldSelector=metadata.name%3Dfoo",
    { verb: "list", name: "foo" },
  ],
  [
    "GET",
    "/api/v1/namespaces/other/pods",
    "fieldSelector=metadata.name%3D%3Dfoo",
    { verb: "list", name: "foo" },
  ],
  [
    "GET",
    "/api/v1/namespaces/other/pods",
    "fieldSelector=metadata.name!%3Dfoo",
    { verb: "list", name: "" },
  ],
  [
    "GET",
    "/api/v1/namespaces/other/pods",
    "fieldSelector=metadata.name%3Dfoo&limit=x",
    { verb: "list", name: "" },
  ],
  [
    "GET",
    "/api/v1/namespaces/other/pods",
    "fieldSelector=metadata.name%3Dfo%25o",
    { verb: "list", name: "" },
  ],
  [
    "GET",
    "/api/v1/namespaces/other/pods",
    "watch=1&fieldSelector=metadata.name%3Dfoo",
    { verb: "watch", name: "foo" },
  ],
];

const nonResourceRows: [string, string, string][] = [
  ["GET", "/apis", "/apis"],
  ["GET", "/apis/custom.metrics.k8s.io", "/apis/custom.metrics.k8s.io"],
  ["GET", "/apis/custom.metrics.k8s.io/v1beta2", "/apis/custom.metrics.k8s.io/v1beta2"],
  ["GET", "/apis/custom.metrics.k8s.io/v1beta2/", "/apis/custom.metrics.k8s.io/v1beta2/"],
  ["GET", "/api", "/api"],
  ["GET", "/api/v1", "/api/v1"],
  ["GET", "/healthz", "/healthz"],
  ["GET", "/healthz/ping", "/healthz/ping"],
  ["GET", "/readyz", "/readyz"],
  ["GET", "/livez", "/livez"],
  ["GET", "/metrics", "/metrics"],
  ["GET", "/openapi/v2", "/openapi/v2"],
  [
    "GET",
    "/openapi/v3/apis/custom.metrics.k8s.io/v1beta2",
    "/openapi/v3/apis/custom.metrics.k8s.io/v1beta2",
  ],
  ["GET", "/version", "/version"],
  ["GET", "/", "/"],
  ["POST", "/metrics", "/metrics"],
  ["GET", "/other/a/b/c", "/other/a/b/c"],
];

describe("requestAttributes (requestinfo.go)", () => {
  for (const [method, path, query, want] of resourceRows) {
    test(`${method} ${path}${query ? `?${query}` : ""}`, () => {
      const a = requestAttributes(method, path, query);
      assert.equal(a.kind, "resource");
      const got: Record<string, string> = {
        verb: a.verb,
        group: a.group,
        version: a.version,
        namespace: a.namespace,
        resource: a.resource,
        name: a.name,
        subresource: a.subresource,
      };
      for (const [k, v] of Object.entries(want)) assert.equal(got[k], v, k);
    });
  }

  for (const [method, path, wantPath] of nonResourceRows) {
    test(`non-resource ${method} ${path}`, () => {
      assert.deepEqual(requestAttributes(method, path, ""), {
        kind: "nonResource",
        verb: method.toLowerCase(),
        path: wantPath,
      });
    });
  }

  test("accepts parsed query parameters", () => {
    const a = requestAttributes("GET", "/api/v1/pods", new URLSearchParams({ watch: "true" }));
    assert.equal(a.verb, "watch");
  });

  test("the path is decoded as Go's URL.Path", () => {
    const a = requestAttributes("GET", "/api/v1/namespaces/a%20b/pods", "");
    assert.equal(a.kind === "resource" && a.namespace, "a b");
    assert.equal(a.path, "/api/v1/namespaces/a b/pods");
  });

  test("a special verb without a resource is an error (500)", () => {
    assert.throws(
      () => requestAttributes("GET", "/api/v1/watch", ""),
      (e) => e instanceof RequestInfoError,
    );
  });

  test("parts keep the uninterpreted tail", () => {
    const a = requestAttributes("GET", "/api/v1/namespaces/ns/pods/p/log/x/y", "");
    assert.deepEqual(a.kind === "resource" && a.parts, ["pods", "p", "log", "x", "y"]);
  });
});
