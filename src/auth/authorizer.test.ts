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

describe("refresh ahead (injected clock; refreshDue driven by the test)", () => {
  /** A server whose answers wait until the test releases them. */
  function heldServer(answer: () => Answer) {
    const waiting: (() => void)[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const server: KubeJson & { sent: number } = {
      sent: 0,
      json<T>(): Promise<T> {
        server.sent++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return new Promise<T>((resolve, reject) => {
          waiting.push(() => {
            inFlight--;
            const a = answer();
            if (a instanceof Error) reject(a);
            else resolve({ status: a } as T);
          });
        });
      },
    };
    return {
      server,
      release: () => {
        for (const w of waiting.splice(0)) w();
      },
      get waiting() {
        return waiting.length;
      },
      get maxInFlight() {
        return maxInFlight;
      },
    };
  }

  const hpa = (refreshAhead: boolean) => {
    let now = 0;
    const server = fakeServer(() => ({ allowed: true }));
    const a = new DelegatingAuthorizer({ client: server, now: () => now, refreshAhead });
    return { a, server, at: (t: number) => (now = t) };
  };

  for (const refreshAhead of [true, false]) {
    test(`a caller every 15 s with a 10 s TTL, refresh ahead ${refreshAhead ? "on: no request waits after the first" : "off: every request waits"}`, async () => {
      const { a, at } = hpa(refreshAhead);
      const decidedBy: string[] = [];
      for (let t = 0; t <= 60_000; t += 500) {
        at(t);
        if (t % 15_000 === 0) decidedBy.push((await a.authorize(alice, podMetric)).decidedBy);
        if (t % 1_000 === 0) await a.refreshDue(); // the timer's 1 s period
      }
      if (refreshAhead) {
        assert.deepEqual(decidedBy, ["review", "cache", "cache", "cache", "cache"]);
        assert.equal(a.reviews.get("request"), 1);
        // One review per 15 s use, in the background: at 8 s (the period not yet known), then
        // timed by the period: 28 s (2 s before the use at 30, the answer having expired at 18),
        // 36 s (its answer lives to the use at 45), 58 s.
        assert.equal(a.reviews.get("refresh"), 4);
      } else {
        assert.deepEqual(decidedBy, ["review", "review", "review", "review", "review"]);
        assert.equal(a.reviews.get("request"), 5);
        assert.equal(a.reviews.get("refresh"), 0);
      }
    });
  }

  test("an answer not asked for within two TTLs is not refreshed and expires as before", async () => {
    const { a, at } = hpa(true);
    await a.authorize(alice, podMetric); // at 0
    for (let t = 1_000; t <= 40_000; t += 1_000) {
      at(t);
      await a.refreshDue();
    }
    // Refreshed at 8 s and 16 s (last asked at 0, within 20 s), not at 24 s: expired at 26 s.
    assert.equal(a.reviews.get("refresh"), 2);
    assert.equal((await a.authorize(alice, podMetric)).decidedBy, "review");
  });

  test("a refresh never extends an answer: a revocation is seen within the TTL", async () => {
    let now = 0;
    let allow = true;
    const server = fakeServer(() => ({ allowed: allow }));
    const a = new DelegatingAuthorizer({ client: server, now: () => now });
    assert.equal((await a.authorize(alice, podMetric)).allowed, true);
    let revokedAt: number | undefined;
    let deniedAt: number | undefined;
    for (let t = 500; t <= 40_000 && deniedAt === undefined; t += 500) {
      now = t;
      if (t === 9_000) {
        allow = false;
        revokedAt = t;
      }
      if (t % 1_000 === 0) await a.refreshDue();
      if (!(await a.authorize(alice, podMetric)).allowed) deniedAt = t;
    }
    assert.ok(revokedAt !== undefined && deniedAt !== undefined);
    // The answer refreshed at 8 s (allowed) is the last one given before the revocation: it is
    // used until 18 s at most. The refresh at 16 s already brings the denial.
    assert.ok(deniedAt - revokedAt <= 10_000, `denied ${String(deniedAt - revokedAt)} ms after`);
    assert.equal(deniedAt, 16_000);
    assert.equal(a.reviews.get("request"), 1);
  });

  test("an entry whose refresh is late expires; the next request waits for that refresh, no second review", async () => {
    let now = 0;
    const held = heldServer(() => ({ allowed: true }));
    const a = new DelegatingAuthorizer({ client: held.server, now: () => now });
    const first = a.authorize(alice, podMetric);
    held.release();
    await first;
    now = 8_500;
    const pass = a.refreshDue(); // sent, not answered
    assert.equal(held.waiting, 1);
    now = 9_999;
    assert.equal((await a.authorize(alice, podMetric)).decidedBy, "cache");
    now = 10_000; // expired: the old answer is no longer used
    const late = a.authorize(alice, podMetric);
    assert.equal(held.server.sent, 2);
    held.release();
    assert.equal(await pass, 1);
    const d = await late;
    assert.deepEqual([d.allowed, d.decidedBy], [true, "review"]);
    assert.equal(held.server.sent, 2);
    // Stored when it arrived, with the request's use: live until 20 s.
    now = 19_999;
    assert.equal((await a.authorize(alice, podMetric)).decidedBy, "cache");
  });

  test("a failed refresh is not cached: the entry expires and the next request asks", async () => {
    let now = 0;
    let fail = false;
    const server = fakeServer(() => (fail ? new Error("connection reset") : { allowed: true }));
    const a = new DelegatingAuthorizer({ client: server, now: () => now, backoff: NO_RETRY });
    await a.authorize(alice, podMetric);
    fail = true;
    now = 8_500;
    assert.equal(await a.refreshDue(), 1);
    now = 9_999;
    assert.equal((await a.authorize(alice, podMetric)).decidedBy, "cache");
    now = 10_000;
    assert.equal((await a.authorize(alice, podMetric)).decidedBy, "error");
    assert.deepEqual([a.reviews.get("request"), a.reviews.get("refresh")], [2, 1]);
  });

  test("denials are refreshed too, for the unauthorized TTL", async () => {
    let now = 0;
    const server = fakeServer(() => ({ allowed: false }));
    const a = new DelegatingAuthorizer({
      client: server,
      now: () => now,
      authorizedTtlMs: 60_000,
      unauthorizedTtlMs: 5_000,
    });
    await a.authorize(alice, podMetric);
    now = 3_999;
    assert.equal(await a.refreshDue(), 0);
    now = 4_000; // lead: 1 s of 5 s
    assert.equal(await a.refreshDue(), 1);
    now = 8_999;
    assert.equal((await a.authorize(alice, podMetric)).decidedBy, "cache");
  });

  test("refreshes run at most refreshConcurrency at a time", async () => {
    let now = 0;
    const held = heldServer(() => ({ allowed: true }));
    const a = new DelegatingAuthorizer({
      client: held.server,
      now: () => now,
      refreshConcurrency: 3,
    });
    const users = Array.from({ length: 10 }, (_, i) => ({ ...alice, name: `u${String(i)}` }));
    const firsts = users.map((u) => a.authorize(u, podMetric));
    held.release();
    await Promise.all(firsts);
    now = 8_500;
    const pass = a.refreshDue();
    for (let i = 0; i < 20 && held.waiting > 0; i++) {
      assert.ok(held.waiting <= 3, `${String(held.waiting)} refreshes at once`);
      held.release();
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(await pass, 10);
    assert.equal(held.maxInFlight, 10); // the first requests, not the refreshes
    assert.equal(a.reviews.get("refresh"), 10);
  });

  test("refreshAhead false: refreshDue sends nothing", async () => {
    const { a, at } = hpa(false);
    await a.authorize(alice, podMetric);
    at(8_500);
    assert.equal(await a.refreshDue(), 0);
  });
});
