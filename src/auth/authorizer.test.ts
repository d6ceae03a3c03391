import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { KubeApiError } from "../kube/client.ts";
import { alwaysAllowPathMatcher } from "./always-allow-paths.ts";
import {
  DelegatingAuthorizer,
  SUBJECT_ACCESS_REVIEW_PATH,
  subjectAccessReviewSpec,
  type SubjectAccessReviewSpec,
} from "./authorizer.ts";
import { parseRequestTarget } from "../apimachinery/request-target.ts";
import { requestAttributes } from "./request-attributes.ts";
import type { KubeJson, UserInfo } from "./types.ts";

const NO_RETRY = { initialMs: 1, factor: 1, jitter: 0, steps: 1 };
const alice: UserInfo = {
  name: "alice",
  uid: "u1",
  groups: ["devs", "system:authenticated"],
  extra: { scopes: ["a"] },
};
const attrs = (path: string) => requestAttributes("GET", parseRequestTarget(path));
const podMetric = attrs("/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/%2A/m");

type Answer = { allowed: boolean; denied?: boolean; reason?: string } | Error;

function fakeServer(answer: (spec: SubjectAccessReviewSpec) => Answer): KubeJson & {
  sent: { path: string; body: unknown }[];
} {
  const sent: { path: string; body: unknown }[] = [];
  return {
    sent,
    json<T>(_method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
      sent.push({ path, body });
      const a = answer((body as { spec: SubjectAccessReviewSpec }).spec);
      return a instanceof Error ? Promise.reject(a) : Promise.resolve({ status: a } as T);
    },
  };
}

describe("alwaysAllowPathMatcher (path.go)", () => {
  const m = alwaysAllowPathMatcher(["/healthz", "/readyz", "/livez", "/debug/*", "metrics"]);
  const nr = attrs;
  for (const [path, want] of [
    ["/healthz", true],
    ["/healthz/", false],
    ["/healthz/ping", false],
    ["/readyz", true],
    ["/metrics", true],
    ["/debug/pprof", true],
    ["/debug", false],
    ["/openapi/v2", false],
  ] as const) {
    test(`${path} → ${String(want)}`, () => {
      assert.equal(m(nr(path)), want);
    });
  }
  test("resource requests never match", () => {
    assert.equal(alwaysAllowPathMatcher(["/apis/*"])(podMetric), false);
  });
  test("only a trailing * is allowed", () => {
    assert.throws(() => alwaysAllowPathMatcher(["/a*/b"]), /only trailing \* allowed/);
  });
});

describe("subjectAccessReviewSpec", () => {
  test("resource attributes", () => {
    assert.deepEqual(subjectAccessReviewSpec(alice, podMetric), {
      user: "alice",
      groups: ["devs", "system:authenticated"],
      extra: { scopes: ["a"] },
      uid: "u1",
      resourceAttributes: {
        namespace: "ns",
        verb: "get",
        group: "custom.metrics.k8s.io",
        version: "v1beta2",
        resource: "pods",
        subresource: "m",
        name: "*",
      },
    });
  });
  test("non-resource attributes; empty fields omitted", () => {
    const u = { name: "bob", groups: [], extra: {} };
    assert.deepEqual(subjectAccessReviewSpec(u, attrs("/metrics")), {
      user: "bob",
      groups: [],
      nonResourceAttributes: { path: "/metrics", verb: "get" },
    });
    assert.deepEqual(
      subjectAccessReviewSpec(u, attrs("/apis/metrics.k8s.io/v1beta1/nodes")).resourceAttributes,
      { verb: "list", group: "metrics.k8s.io", version: "v1beta1", resource: "nodes" },
    );
  });
});

describe("DelegatingAuthorizer", () => {
  test("system:masters and always-allow paths skip the review", async () => {
    const server = fakeServer(() => ({ allowed: false }));
    const a = new DelegatingAuthorizer({ client: server });
    const admin = { name: "admin", groups: ["system:masters"], extra: {} };
    assert.equal((await a.authorize(admin, podMetric)).decidedBy, "privileged-group");
    const health = await a.authorize(alice, attrs("/healthz"));
    assert.deepEqual([health.allowed, health.decidedBy], [true, "always-allow-path"]);
    assert.equal(server.sent.length, 0);
  });

  test("asks a SubjectAccessReview and reports allow and deny", async () => {
    const server = fakeServer((s) =>
      s.user === "alice"
        ? { allowed: true, reason: "RBAC: allowed by RoleBinding" }
        : { allowed: false },
    );
    const a = new DelegatingAuthorizer({ client: server, backoff: NO_RETRY });
    assert.deepEqual(await a.authorize(alice, podMetric), {
      allowed: true,
      reason: "RBAC: allowed by RoleBinding",
      statusReason: "RBAC: allowed by RoleBinding",
      decidedBy: "review",
    });
    assert.equal(server.sent[0]?.path, SUBJECT_ACCESS_REVIEW_PATH);
    assert.deepEqual(server.sent[0].body, {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: subjectAccessReviewSpec(alice, podMetric),
    });
    const bob = { name: "bob", groups: [], extra: {} };
    const d = await a.authorize(bob, podMetric);
    assert.equal(d.allowed, false);
    assert.equal(d.statusReason, "");
    assert.equal(
      d.reason,
      'SubjectAccessReview did not allow bob get pods/m.custom.metrics.k8s.io "*" in ns',
    );
  });

  test("allowed together with denied is a denial", async () => {
    const a = new DelegatingAuthorizer({
      client: fakeServer(() => ({ allowed: true, denied: true })),
    });
    assert.equal((await a.authorize(alice, podMetric)).allowed, false);
  });

  test("allow and deny are cached for their TTLs", async () => {
    let now = 0;
    let allow = true;
    const server = fakeServer(() => ({ allowed: allow }));
    const a = new DelegatingAuthorizer({
      client: server,
      now: () => now,
      authorizedTtlMs: 5_000,
      unauthorizedTtlMs: 20_000,
    });
    assert.equal((await a.authorize(alice, podMetric)).allowed, true);
    allow = false;
    now = 4_999;
    const cached = await a.authorize(alice, podMetric);
    assert.deepEqual([cached.allowed, cached.decidedBy], [true, "cache"]);
    now = 5_000;
    assert.equal((await a.authorize(alice, podMetric)).allowed, false);
    allow = true;
    now = 24_999;
    assert.equal((await a.authorize(alice, podMetric)).allowed, false);
    now = 25_000;
    assert.equal((await a.authorize(alice, podMetric)).allowed, true);
    assert.equal(a.reviewsSent, 3);
  });

  test("default TTLs are 10 s", async () => {
    let now = 0;
    const server = fakeServer(() => ({ allowed: false }));
    const a = new DelegatingAuthorizer({ client: server, now: () => now });
    await a.authorize(alice, podMetric);
    now = 9_999;
    await a.authorize(alice, podMetric);
    assert.equal(a.reviewsSent, 1);
    now = 10_000;
    await a.authorize(alice, podMetric);
    assert.equal(a.reviewsSent, 2);
  });

  test("different attributes are different cache entries", async () => {
    const server = fakeServer((s) => ({ allowed: s.resourceAttributes?.subresource === "m" }));
    const a = new DelegatingAuthorizer({ client: server });
    const other = attrs("/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/%2A/other");
    assert.equal((await a.authorize(alice, podMetric)).allowed, true);
    assert.equal((await a.authorize(alice, other)).allowed, false);
  });

  test("identical concurrent questions share one review; different ones do not", async () => {
    const server = fakeServer((s) => ({ allowed: s.resourceAttributes?.subresource === "m" }));
    const a = new DelegatingAuthorizer({ client: server });
    const other = attrs("/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/%2A/other");
    const ds = await Promise.all([
      a.authorize(alice, podMetric),
      a.authorize(alice, podMetric),
      a.authorize(alice, other),
      a.authorize(alice, podMetric),
    ]);
    assert.deepEqual(
      ds.map((d) => d.allowed),
      [true, true, false, true],
    );
    assert.equal(server.sent.length, 2);
    assert.equal(a.reviewsSent, 2);
  });

  test("a failed review shared by concurrent questions denies them all and is not cached", async () => {
    const server = fakeServer(() => new Error("connection reset"));
    const a = new DelegatingAuthorizer({ client: server, backoff: NO_RETRY });
    const ds = await Promise.all([a.authorize(alice, podMetric), a.authorize(alice, podMetric)]);
    assert.deepEqual(
      ds.map((d) => [d.allowed, d.decidedBy]),
      [
        [false, "error"],
        [false, "error"],
      ],
    );
    assert.equal(server.sent.length, 1);
    await a.authorize(alice, podMetric);
    assert.equal(server.sent.length, 2);
  });

  test("an API error denies with the error as reason, and is not cached", async () => {
    const server = fakeServer(() => new KubeApiError(403, '{"message":"nope"}', "POST /sar"));
    const a = new DelegatingAuthorizer({ client: server, backoff: NO_RETRY });
    const d = await a.authorize(alice, podMetric);
    assert.deepEqual(d, {
      allowed: false,
      reason: "SubjectAccessReview failed: POST /sar: HTTP 403: nope",
      statusReason: "SubjectAccessReview failed: POST /sar: HTTP 403: nope",
      decidedBy: "error",
    });
    await a.authorize(alice, podMetric);
    assert.equal(server.sent.length, 2);
  });
});
