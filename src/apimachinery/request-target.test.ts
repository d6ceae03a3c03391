import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseRequestTarget, RequestTargetError } from "./request-target.ts";

const refused = (url: string, status: 400 | 404) => {
  assert.throws(
    () => parseRequestTarget(url),
    (e) => e instanceof RequestTargetError && e.status === status,
    url,
  );
};

describe("parseRequestTarget", () => {
  test("decodes each segment; the query is kept raw and parsed", () => {
    const t = parseRequestTarget(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/%2A/m?a=1",
    );
    assert.deepEqual(t.segments, [
      "apis",
      "custom.metrics.k8s.io",
      "v1beta2",
      "namespaces",
      "ns",
      "pods",
      "*",
      "m",
    ]);
    assert.equal(t.path, "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/*/m");
    assert.equal(t.rawPath, "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/%2A/m");
    assert.equal(t.rawQuery, "a=1");
    assert.equal(t.query.get("a"), "1");
  });

  test("the root, and a trailing slash, make no segment; the path keeps the slash", () => {
    assert.deepEqual(parseRequestTarget("/").segments, []);
    assert.equal(parseRequestTarget("/").path, "/");
    const t = parseRequestTarget("/apis/");
    assert.deepEqual(t.segments, ["apis"]);
    assert.equal(t.path, "/apis/");
  });

  test("characters that are only special to other parsers stay literal", () => {
    // WHATWG URL would turn `\` into `/` and drop `;`-less nothing; Go keeps both as they are.
    assert.deepEqual(parseRequestTarget("/a\\..\\b/x;y/%C3%A9/...").segments, [
      "a\\..\\b",
      "x;y",
      "é",
      "...",
    ]);
  });

  test("dot segments, literal or encoded, are refused with 404 as kube-apiserver does", () => {
    for (const url of [
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/a/pods/*/m/../../../../b/pods/*/m",
      "/openapi/%2e%2e/apis/custom.metrics.k8s.io/v1beta2/namespaces/seed/pods/*/m",
      "/apis/metrics.k8s.io/v1beta1/namespaces/a/pods/x/%2E%2e/%2e%2E/%2e%2e/b/pods",
      "/apis/./metrics.k8s.io",
      "/apis/%2e/metrics.k8s.io",
      "/..",
      "/apis/..",
    ]) {
      refused(url, 404);
    }
  });

  test("encoded slashes and empty segments are refused with 404", () => {
    refused("/apis/custom.metrics.k8s.io/v1beta2/namespaces/a%2Fb/pods/*/m", 404);
    refused("/apis/custom.metrics.k8s.io/v1beta2/namespaces/a%2fb/pods/*/m", 404);
    refused("/apis/custom.metrics.k8s.io/v1beta2/namespaces//pods/*/m", 404);
    refused("//apis/custom.metrics.k8s.io", 404);
    refused("/apis//", 404);
  });

  test("non-origin forms, fragments, bad escapes and NUL are refused with 400", () => {
    refused("http://other.example/apis/custom.metrics.k8s.io/v1beta2", 400);
    refused("*", 400);
    refused("", 400);
    refused("apis/custom.metrics.k8s.io", 400);
    refused("/apis/x#frag", 400);
    refused("/apis/%zz", 400);
    refused("/apis/%E0%A4%A", 400);
    refused("/apis/a%00b", 400);
  });

  test("a dot segment in the query is just data", () => {
    assert.equal(
      parseRequestTarget("/apis?labelSelector=a%3D..").query.get("labelSelector"),
      "a=..",
    );
  });
});
