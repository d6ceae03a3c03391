import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { createCa, issue } from "../pki/pki.ts";
import { DelegatedAuth, forbiddenMessage } from "./delegated-auth.ts";
import { parseRequestTarget } from "../apimachinery/request-target.ts";
import { requestAttributes } from "./request-attributes.ts";
import type { AuthRequest, KubeJson } from "./types.ts";

const alice = { name: "alice", groups: [], extra: {} };

describe("forbiddenMessage (responsewriters/errors.go)", () => {
  const cases: [string, string][] = [
    [
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/%2A/m",
      'User "alice" cannot get resource "pods/m" in API group "custom.metrics.k8s.io" in the namespace "ns"',
    ],
    [
      "/apis/metrics.k8s.io/v1beta1/nodes",
      'User "alice" cannot list resource "nodes" in API group "metrics.k8s.io" at the cluster scope',
    ],
    [
      "/api/v1/namespaces/ns/pods",
      'User "alice" cannot list resource "pods" in API group "" in the namespace "ns"',
    ],
    ["/metrics", 'User "alice" cannot get path "/metrics"'],
    [
      "/apis/custom.metrics.k8s.io/v1beta2",
      'User "alice" cannot get path "/apis/custom.metrics.k8s.io/v1beta2"',
    ],
  ];
  for (const [path, want] of cases) {
    test(path, () => {
      assert.equal(
        forbiddenMessage(alice, requestAttributes("GET", parseRequestTarget(path))),
        want,
      );
    });
  }
});

describe("DelegatedAuth.authenticateAndAuthorize", () => {
  let auth: DelegatedAuth;
  let proxyCert: X509Certificate;
  let sars = 0;
  const authnCalls: string[] = [];
  const authzCalls: string[] = [];

  before(async () => {
    const frontProxyCa = await createCa("front-proxy-ca");
    proxyCert = new X509Certificate(
      (await issue(frontProxyCa, { commonName: "front-proxy-client", usage: "client" })).certPem,
    );
    // Two clients, as --authentication-kubeconfig and --authorization-kubeconfig give: each
    // records what it is asked, so a call sent to the wrong one shows.
    const authenticationClient: KubeJson = {
      json<T>(method: "GET" | "POST", path: string): Promise<T> {
        authnCalls.push(`${method} ${path}`);
        if (method === "GET") {
          return Promise.resolve({
            data: {
              "requestheader-client-ca-file": frontProxyCa.certPem,
              "requestheader-username-headers": '["X-Remote-User"]',
              "requestheader-group-headers": '["X-Remote-Group"]',
              "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
              "requestheader-allowed-names": '["front-proxy-client"]',
            },
          } as T);
        }
        return Promise.resolve({ status: { authenticated: false } } as T);
      },
    };
    const authorizationClient: KubeJson = {
      json<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
        authzCalls.push(`${method} ${path}`);
        sars++;
        const spec = (body as { spec: { user: string } }).spec;
        return Promise.resolve({
          status:
            spec.user === "alice"
              ? { allowed: true }
              : spec.user === "eve"
                ? { allowed: false, denied: true, reason: "eve is banned" }
                : { allowed: false },
        } as T);
      },
    };
    auth = await DelegatedAuth.create({
      authenticationClient,
      authorizationClient,
      configRefreshMs: 0,
    });
  });

  const req = (user: string | undefined, path: string, certs = true): AuthRequest => ({
    headers: user === undefined ? {} : { "x-remote-user": user },
    peerCertificates: certs ? [proxyCert] : [],
    method: "GET",
    target: parseRequestTarget(path),
  });
  const podMetricPath = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/%2A/m";

  test("allowed: the user and attributes", async () => {
    const r = await auth.authenticateAndAuthorize(req("alice", podMetricPath));
    assert.equal(r.ok, true);
    assert.equal(r.user.name, "alice");
    assert.equal(r.attributes.kind === "resource" && r.attributes.name, "*");
  });

  test("401: the exact Status body", async () => {
    const r = await auth.authenticateAndAuthorize(req("alice", podMetricPath, false));
    assert.equal(r.ok, false);
    assert.equal(r.status, 401);
    assert.equal(
      JSON.stringify(r.body),
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}',
    );
  });

  test("403 for a resource: NewForbidden with group, kind and name", async () => {
    const r = await auth.authenticateAndAuthorize(req("bob", podMetricPath));
    assert.equal(!r.ok && r.status, 403);
    assert.equal(
      JSON.stringify(!r.ok && r.body),
      JSON.stringify({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message:
          'pods.custom.metrics.k8s.io "*" is forbidden: User "bob" cannot get resource "pods/m" in API group "custom.metrics.k8s.io" in the namespace "ns"',
        reason: "Forbidden",
        details: { name: "*", group: "custom.metrics.k8s.io", kind: "pods" },
        code: 403,
      }),
    );
  });

  test("403 appends the review's reason", async () => {
    const r = await auth.authenticateAndAuthorize(
      req("eve", "/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/queue"),
    );
    assert.equal(
      !r.ok && r.body.message,
      'queue.external.metrics.k8s.io is forbidden: User "eve" cannot list resource "queue" in API group "external.metrics.k8s.io" in the namespace "ns": eve is banned',
    );
  });

  test("403 for a path", async () => {
    const r = await auth.authenticateAndAuthorize(req("bob", "/metrics"));
    assert.equal(
      JSON.stringify(!r.ok && r.body),
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"forbidden: User \\"bob\\" cannot get path \\"/metrics\\"","reason":"Forbidden","details":{},"code":403}',
    );
  });

  test("admit (the in-flight limit) runs after authentication and before authorization", async () => {
    const before = sars;
    const asked: string[] = [];
    const refuse = (u: { name: string }) => {
      asked.push(u.name);
      return false;
    };
    // A user no answer is cached for: admitted, it would cost a review.
    const r = await auth.authenticateAndAuthorize(req("carol", podMetricPath), refuse);
    assert.equal(!r.ok && r.status, 429);
    assert.deepEqual(asked, ["carol"]);
    assert.equal(sars, before, "a request turned away is not reviewed");
    // Unauthenticated: 401, and admit is not asked.
    const anon = await auth.authenticateAndAuthorize(req("carol", podMetricPath, false), refuse);
    assert.equal(!anon.ok && anon.status, 401);
    assert.deepEqual(asked, ["carol"]);
    // Admitted: reviewed as without it.
    const ok = await auth.authenticateAndAuthorize(req("carol", podMetricPath), () => true);
    assert.equal(!ok.ok && ok.status, 403);
    assert.equal(sars, before + 1);
  });

  test("health paths need authentication but no review", async () => {
    const before = sars;
    assert.equal((await auth.authenticateAndAuthorize(req("bob", "/healthz"))).ok, true);
    assert.equal(sars, before);
    const anon = await auth.authenticateAndAuthorize(req(undefined, "/healthz", false));
    assert.equal(!anon.ok && anon.status, 401);
  });

  test("a path NewRequestInfo cannot read: 500 as kube", async () => {
    const watch = await auth.authenticateAndAuthorize(req("alice", "/apis/g/v/watch"));
    assert.equal(!watch.ok && watch.status, 500);
  });

  test("the ConfigMap and TokenReview use the authentication client, reviews the authorization one", async () => {
    const reviewsBefore = authzCalls.length;
    await auth.authenticateAndAuthorize({
      headers: { authorization: "Bearer some-token" },
      peerCertificates: [],
      method: "GET",
      target: parseRequestTarget(podMetricPath),
    });
    assert.ok(
      authnCalls.includes(
        "GET /api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication",
      ),
    );
    assert.ok(authnCalls.includes("POST /apis/authentication.k8s.io/v1/tokenreviews"));
    assert.ok(authnCalls.every((c) => !c.includes("subjectaccessreviews")));
    await auth.authenticateAndAuthorize(
      req("alice", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/other/pods/%2A/m"),
    );
    assert.ok(authzCalls.length > reviewsBefore);
    assert.ok(
      authzCalls.every((c) => c === "POST /apis/authorization.k8s.io/v1/subjectaccessreviews"),
    );
  });

  test("close stops the refresh timer", () => {
    auth.close();
  });
});
