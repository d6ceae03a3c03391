/**
 * @module server/authorized-is-served.test
 * The property behind the `..` authorization bypass (issue #20): for any request target, the
 * attributes the adapter sends in its SubjectAccessReview are those of the path it then serves,
 * or the request is refused. The real filter (server/handlers) and router (server/api-server)
 * run here; only the API server (TokenReview, SubjectAccessReview) and the API groups are stand-ins.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseRequestTarget } from "../apimachinery/request-target.ts";
import type { ApiGroup } from "../apis/types.ts";
import { DelegatedAuth } from "../auth/delegated-auth.ts";
import { requestAttributes, type RequestAttributes } from "../auth/request-attributes.ts";
import type { KubeJson } from "../auth/types.ts";
import { silentLogger } from "../observability/logger.ts";
import { createApiHandler } from "./api-server.ts";
import { authenticated } from "./handlers.ts";

interface Review {
  resourceAttributes?: Record<string, string>;
  nonResourceAttributes?: { path: string; verb: string };
}

/** The API server: every token is user "u"; every review is recorded and allowed. */
function apiServer(reviews: Review[]): KubeJson {
  return {
    json<T>(_method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
      if (path.includes("tokenreviews")) {
        return Promise.resolve({
          status: { authenticated: true, user: { username: "u", groups: ["g"] } },
        } as T);
      }
      reviews.push((body as { spec: Review }).spec);
      return Promise.resolve({ status: { allowed: true } } as T);
    },
  };
}

function group(name: string, versions: string[], served: string[][]): ApiGroup {
  return {
    name,
    versions,
    advertisedVersions: versions,
    resourceList: () => ({}),
    handle: (version, req) => {
      served.push(["apis", name, version, ...req.segments]);
      return Promise.resolve({ status: 200, body: {} });
    },
  };
}

/** Kubernetes' view of a served path, compared field by field with what was reviewed. */
function reviewed(a: RequestAttributes): Review {
  if (a.kind === "nonResource") return { nonResourceAttributes: { path: a.path, verb: a.verb } };
  const out: Record<string, string> = { verb: a.verb, group: a.group, version: a.version };
  for (const k of ["namespace", "resource", "subresource", "name"] as const) {
    if (a[k] !== "") out[k] = a[k];
  }
  return { resourceAttributes: out };
}

const SEGMENTS = [
  "apis",
  "custom.metrics.k8s.io",
  "external.metrics.k8s.io",
  "metrics.k8s.io",
  "v1beta1",
  "v1beta2",
  "namespaces",
  "a",
  "b",
  "pods",
  "nodes",
  "%2A",
  "*",
  "m",
  "..",
  ".",
  "%2e%2e",
  "%2E.",
  "%2e",
  ".%2E",
  "a%2Fb",
  "%2f",
  "",
  "x;y",
  "a\\..\\b",
  "\\",
  "é",
  "%C3%A9",
  "%252e%252e",
  "openapi",
  "v3",
  "healthz",
  "metrics",
  "watch",
  "%zz",
];
const PREFIXES = ["/", "//", "http://other.example/", "*", "\\", "/openapi/../", ""];
const QUERIES = ["", "?labelSelector=app%3Dweb", "?fieldSelector=metadata.name%3D..", "?#x"];

test("for any target, what is authorized is what is served, or it is refused", async () => {
  const reviews: Review[] = [];
  const served: string[][] = [];
  const api = apiServer(reviews);
  const auth = await DelegatedAuth.create({
    authenticationClient: api,
    authorizationClient: api,
    authentication: { skipLookup: true },
    // No caching: every request sends its own review.
    authorizedTtlMs: 0,
    unauthorizedTtlMs: 0,
    configRefreshMs: 0,
  });
  const handler = createApiHandler({
    groups: [
      group("custom.metrics.k8s.io", ["v1beta2", "v1beta1"], served),
      group("external.metrics.k8s.io", ["v1beta1"], served),
      group("metrics.k8s.io", ["v1beta1"], served),
    ],
    log: silentLogger(),
    ready: () => true,
    version: { gitVersion: "v0.0.0" },
    metrics: { contentType: "text/plain", text: () => Promise.resolve("") },
  });
  const filter = authenticated(auth, handler, silentLogger(), ["/healthz", "/readyz", "/livez"]);

  const send = (url: string) =>
    new Promise<number>((resolve) => {
      const res = {
        statusCode: 0,
        setHeader: () => res,
        end: () => {
          resolve(res.statusCode);
        },
        once: () => res,
      };
      const req = {
        url,
        method: "GET",
        rawHeaders: ["Authorization", "Bearer t"],
        socket: { getPeerCertificate: () => ({}) },
      };
      filter(req as never, res as never);
    });

  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...PREFIXES),
      fc.array(fc.constantFrom(...SEGMENTS), { maxLength: 10 }),
      fc.constantFrom(...QUERIES),
      async (prefix, segments, query) => {
        reviews.length = 0;
        served.length = 0;
        const url = `${prefix}${segments.join("/")}${query}`;
        const status = await send(url);
        const [s] = served;
        if (s === undefined) return; // refused, or answered by the router itself
        assert.equal(status, 200);
        assert.equal(reviews.length, 1, `${url}: one review before serving`);
        assert.ok(
          !s.some((x) => x === "" || x === "." || x === ".."),
          `${url}: served ${JSON.stringify(s)}`,
        );
        // Kubernetes' attributes of the path actually served, as the aggregator would compute
        // them for that literal path, equal the ones reviewed.
        const servedTarget = parseRequestTarget(
          `/${s.map(encodeURIComponent).join("/")}${query.replace(/#.*/, "")}`,
        );
        // The review's attributes (its user and groups are the authenticator's, not the path's).
        const { resourceAttributes, nonResourceAttributes } = reviews[0] ?? {};
        assert.deepEqual(
          resourceAttributes === undefined ? { nonResourceAttributes } : { resourceAttributes },
          reviewed(requestAttributes("GET", servedTarget)),
          url,
        );
      },
    ),
    { numRuns: 3000 },
  );
  // The generator reaches the interesting cases: some targets are served, dot forms are not.
  assert.equal(await send("/apis/custom.metrics.k8s.io/v1beta2/namespaces/a/pods/%2A/m"), 200);
  for (const exploit of [
    "/openapi/%2e%2e/apis/custom.metrics.k8s.io/v1beta2/namespaces/seed/pods/*/m",
    "/apis/custom.metrics.k8s.io/v1beta2/namespaces/a/pods/*/m/../../../../b/pods/*/m",
    "/apis/metrics.k8s.io/v1beta1/namespaces/a/pods/x/%2e%2e/%2e%2e/%2e%2e/b/pods",
    "/apis/external.metrics.k8s.io/v1beta1/namespaces/a/q/%2e%2e/%2e%2e/b/q",
    "/openapi/%2e%2e/metrics",
  ]) {
    served.length = 0;
    assert.equal(await send(exploit), 404, exploit);
    assert.equal(served.length, 0, exploit);
  }
  assert.equal(await send("http://other.example/apis/custom.metrics.k8s.io/v1beta2"), 400);
  auth.close();
});
