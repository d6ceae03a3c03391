/**
 * @module apimachinery/status.test
 * The exact JSON (key order included) of the Status bodies the adapter sends.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  badRequest,
  forbidden,
  internalError,
  methodNotAllowed,
  notFound,
  resourceNotFound,
  serviceUnavailable,
  unauthorized,
  type Status,
} from "./status.ts";

const cases: [string, Status, string][] = [
  [
    "metric not found (custom-metrics-apiserver NewMetricNotFoundError)",
    notFound("the server could not find the metric http_requests for pods"),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the metric http_requests for pods","reason":"NotFound","code":404}',
  ],
  [
    "route not found keeps empty details",
    notFound("the server could not find the requested resource", {}),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}',
  ],
  [
    "pod metrics not found (errors.NewNotFound)",
    resourceNotFound({ group: "metrics.k8s.io", resource: "podmetrics" }, "ns/p"),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"podmetrics.metrics.k8s.io \\"ns/p\\" not found","reason":"NotFound","details":{"name":"ns/p","group":"metrics.k8s.io","kind":"podmetrics"},"code":404}',
  ],
  [
    "core resource not found",
    resourceNotFound({ group: "", resource: "pods" }, "web"),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"web\\" not found","reason":"NotFound","details":{"name":"web","kind":"pods"},"code":404}',
  ],
  [
    "internal error",
    internalError("unable to fetch metrics"),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Internal error occurred: unable to fetch metrics","reason":"InternalError","details":{"causes":[{"message":"unable to fetch metrics"}]},"code":500}',
  ],
  [
    "bad request",
    badRequest("unable to parse requirement: found '(', expected: identifier"),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"unable to parse requirement: found \'(\', expected: identifier","reason":"BadRequest","code":400}',
  ],
  [
    "forbidden with a name",
    forbidden({ group: "custom.metrics.k8s.io", resource: "pods" }, "*", "no RBAC"),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods.custom.metrics.k8s.io \\"*\\" is forbidden: no RBAC","reason":"Forbidden","details":{"name":"*","group":"custom.metrics.k8s.io","kind":"pods"},"code":403}',
  ],
  [
    "forbidden without a name",
    forbidden({ group: "", resource: "pods" }, "", "denied"),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods is forbidden: denied","reason":"Forbidden","details":{"kind":"pods"},"code":403}',
  ],
  [
    "forbidden without a resource",
    forbidden({ group: "", resource: "" }, "", "denied"),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"forbidden: denied","reason":"Forbidden","details":{},"code":403}',
  ],
  [
    "unauthorized, default text",
    unauthorized(),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"not authorized","reason":"Unauthorized","code":401}',
  ],
  [
    "unauthorized like the apiserver",
    unauthorized("Unauthorized"),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}',
  ],
  [
    "service unavailable",
    serviceUnavailable("prometheus is not reachable"),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"prometheus is not reachable","reason":"ServiceUnavailable","code":503}',
  ],
  [
    "method not allowed",
    methodNotAllowed(),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server does not allow this method on the requested resource","reason":"MethodNotAllowed","details":{"causes":[{"reason":"UnexpectedServerResponse","message":"405: Method Not Allowed"}]},"code":405}',
  ],
];

describe("Status builders", () => {
  for (const [name, status, json] of cases) {
    it(name, () => {
      assert.equal(JSON.stringify(status), json);
    });
  }
});
