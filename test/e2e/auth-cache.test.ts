// The authorization cache's refresh ahead against the local cluster's real kube-apiserver and RBAC:
// an HPA-like caller every 15 s with the default 10 s TTL waits for no SubjectAccessReview after its
// first burst, and a deleted RoleBinding stops granting access within the TTL all the same.
import { subjectAccessReviewsCreated } from "../support/apiserver-metrics.ts";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { parseRequestTarget } from "../../src/apimachinery/request-target.ts";
import { DelegatingAuthorizer } from "../../src/auth/authorizer.ts";
import { DelegatedAuth } from "../../src/auth/delegated-auth.ts";
import { requestAttributes } from "../../src/auth/request-attributes.ts";
import { ReviewCounter } from "../../src/auth/review-counter.ts";
import type { AuthRequest } from "../../src/auth/types.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { freshNamespace, kubectl, testCluster, waitFor } from "../support/cluster.ts";
import { applyObjects } from "../support/objects.ts";

const TTL_MS = 10_000; // the default of both --authorization-webhook-cache-*-ttl
const PERIOD_MS = 15_000; // the HPA controller's default resync
const NO_RETRY = { initialMs: 1, factor: 1, jitter: 0, steps: 1 };
const METRICS = ["m0", "m1", "m2", "m3", "m4"];

/** kube-apiserver's own count of SubjectAccessReviews created (any client). */
async function apiserverReviews(info: ClusterInfo): Promise<number> {
  return subjectAccessReviewsCreated(await kubectl(info, ["get", "--raw", "/metrics"]));
}

describe("authorization cache refresh ahead against the real kube-apiserver", () => {
  let info: ClusterInfo;
  let ns: string;
  let client: KubeClient;
  let frontProxyClient: X509Certificate;

  const path = (metric: string) =>
    `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns}/pods/%2A/${metric}`;
  const asUser = (user: string, metric: string): AuthRequest => ({
    headers: { "x-remote-user": [user] },
    peerCertificates: [frontProxyClient],
    method: "GET",
    target: parseRequestTarget(path(metric)),
  });

  /** A Role for the pod metrics and a binding of it to `user`, applied; waits until RBAC allows. */
  async function grant(user: string, binding: string): Promise<void> {
    const manifest = [
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "pod-metric-reader", namespace: ns },
        rules: [
          {
            apiGroups: ["custom.metrics.k8s.io"],
            resources: METRICS.map((m) => `pods/${m}`),
            verbs: ["get"],
          },
        ],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: binding, namespace: ns },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "Role",
          name: "pod-metric-reader",
        },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user }],
      },
    ];
    await applyObjects(info, manifest);
    const uncached = new DelegatingAuthorizer({
      client,
      authorizedTtlMs: 0,
      unauthorizedTtlMs: 0,
      backoff: NO_RETRY,
    });
    const attrs = requestAttributes("GET", parseRequestTarget(path("m0")));
    const who = { name: user, groups: ["system:authenticated"], extra: {} };
    await waitFor(`RBAC to allow ${user}`, async () =>
      (await uncached.authorize(who, attrs)).allowed ? true : undefined,
    );
  }

  before(async () => {
    info = await testCluster();
    ns = await freshNamespace(info, "authcache");
    client = new KubeClient({ kubeconfig: info.kubeconfig });
    frontProxyClient = new X509Certificate(readFileSync(info.pki.frontProxyClientCert, "utf8"));
  });

  after(async () => {
    client.close();
    await kubectl(info, ["delete", "namespace", ns, "--wait=false"]);
  });

  test(
    "bursts 15 s apart with a 10 s TTL: only the first burst waits for SubjectAccessReviews",
    { timeout: 120_000 },
    async (t) => {
      await grant("hpa", "hpa-reads");
      const reviews = new ReviewCounter();
      const auth = await DelegatedAuth.create({
        authenticationClient: client,
        authorizationClient: client,
        configRefreshMs: 0,
        subjectAccessReviews: reviews,
        backoff: NO_RETRY,
      });
      try {
        const apiserverBefore = await apiserverReviews(info);
        const bursts: { request: number; refresh: number; decidedBy: string[] }[] = [];
        const start = Date.now();
        for (let k = 0; k < 3; k++) {
          await sleep(Math.max(0, start + k * PERIOD_MS - Date.now()));
          const before = reviews.get("request");
          // 5 metrics × 3 HPAs each: 5 distinct questions, as a namespace's HPAs at one resync.
          const outcomes = await Promise.all(
            METRICS.flatMap((m) =>
              [0, 1, 2].map(() => auth.authenticateAndAuthorize(asUser("hpa", m))),
            ),
          );
          for (const o of outcomes) assert.ok(o.ok, JSON.stringify(o));
          bursts.push({
            request: reviews.get("request") - before,
            refresh: reviews.get("refresh"),
            decidedBy: [...new Set(outcomes.map((o) => (o.ok ? o.decision.decidedBy : "denied")))],
          });
        }
        const apiserverAfter = await apiserverReviews(info);
        const report = JSON.stringify({ bursts, apiserver: apiserverAfter - apiserverBefore });
        t.diagnostic(report);
        // The first burst asks each distinct question once; the later ones find live answers.
        assert.equal(bursts[0]?.request, METRICS.length, report);
        assert.deepEqual(
          bursts.slice(1).map((b) => [b.request, b.decidedBy]),
          [
            [0, ["cache"]],
            [0, ["cache"]],
          ],
          report,
        );
        // The answers were refreshed in the background instead (about one per 8-9 s each).
        assert.ok(reviews.get("refresh") >= 2 * METRICS.length, report);
        // And these are real reviews: the API server counted at least as many.
        assert.ok(apiserverAfter - apiserverBefore >= reviews.total, report);
      } finally {
        auth.close();
      }
    },
  );

  test(
    "a deleted RoleBinding stops granting access within the TTL while the answer is refreshed",
    { timeout: 120_000 },
    async (t) => {
      await grant("revoked", "revoked-reads");
      const reviews = new ReviewCounter();
      const auth = await DelegatedAuth.create({
        authenticationClient: client,
        authorizationClient: client,
        configRefreshMs: 0,
        subjectAccessReviews: reviews,
        backoff: NO_RETRY,
      });
      // The API server's own view, uncached: when RBAC itself stops allowing.
      const uncached = new DelegatingAuthorizer({
        client,
        authorizedTtlMs: 0,
        unauthorizedTtlMs: 0,
        backoff: NO_RETRY,
      });
      const attrs = requestAttributes("GET", parseRequestTarget(path("m0")));
      const user = { name: "revoked", groups: ["system:authenticated"], extra: {} };
      try {
        // In use for a while, so its answer is being refreshed when the binding goes.
        const useUntil = Date.now() + 12_000;
        while (Date.now() < useUntil) {
          assert.ok((await auth.authenticateAndAuthorize(asUser("revoked", "m0"))).ok);
          await sleep(500);
        }
        assert.ok(reviews.get("refresh") >= 1, "refreshed before the revocation");
        // m0: an answer in use, refreshed for 12 s. m1: a fresh answer, arrived just before the
        // binding goes, so it would be allowed longest if an answer outlived its TTL.
        assert.ok((await auth.authenticateAndAuthorize(asUser("revoked", "m1"))).ok);
        await kubectl(info, ["-n", ns, "delete", "rolebinding", "revoked-reads"]);
        let rbacDeniedAt: number | undefined; // first uncached denial
        const lastAllowedAt = new Map<string, number>(); // start of the last request allowed
        const deniedAt = new Map<string, number>();
        const deadline = Date.now() + 3 * TTL_MS;
        while (deniedAt.size < 2 && Date.now() < deadline) {
          const t = Date.now();
          const [m0, m1, direct] = await Promise.all([
            auth.authenticateAndAuthorize(asUser("revoked", "m0")),
            auth.authenticateAndAuthorize(asUser("revoked", "m1")),
            rbacDeniedAt === undefined ? uncached.authorize(user, attrs) : undefined,
          ]);
          if (direct && !direct.allowed) rbacDeniedAt = t;
          for (const [metric, outcome] of [
            ["m0", m0],
            ["m1", m1],
          ] as const) {
            if (outcome.ok) lastAllowedAt.set(metric, t);
            else {
              assert.equal(outcome.status, 403);
              if (!deniedAt.has(metric)) deniedAt.set(metric, t);
            }
          }
          await sleep(250);
        }
        assert.ok(rbacDeniedAt !== undefined, "RBAC never denied after the binding was deleted");
        const rbac = rbacDeniedAt;
        const since = (m: Map<string, number>) =>
          Object.fromEntries([...m].map(([k, v]) => [k, v - rbac]));
        const report = JSON.stringify({
          lastAllowedAfterRbac: since(lastAllowedAt),
          deniedAfterRbac: since(deniedAt),
          refresh: reviews.get("refresh"),
        });
        t.diagnostic(report);
        assert.equal(deniedAt.size, 2, `still allowed after 3 TTLs: ${report}`);
        // No answer given by the API server before it denied is used longer than the TTL after
        // it: 1 s allows for the review's own round trip and the uncached probe's 250 ms period.
        for (const last of lastAllowedAt.values()) {
          assert.ok(last <= rbacDeniedAt + TTL_MS + 1_000, report);
        }
        // Once denied, it stays denied.
        for (const metric of ["m0", "m1", "m0"]) {
          assert.equal((await auth.authenticateAndAuthorize(asUser("revoked", metric))).ok, false);
        }
      } finally {
        auth.close();
      }
    },
  );
});
