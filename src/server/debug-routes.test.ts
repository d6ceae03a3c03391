import assert from "node:assert/strict";
import { test } from "node:test";
import { parseRequestTarget } from "../apimachinery/request-target.ts";
import { BUILTIN_RESOURCES } from "../diagnostics/builtin-resources.ts";
import { RestMapper } from "../kube/rest-mapper.ts";
import { customRegistry } from "../providers/prometheus/discovery.ts";
import { ExternalRegistry } from "../providers/prometheus/registry.ts";
import { compileRule, namingMapper } from "../providers/prometheus/rules.ts";
import { isDebugTarget, serveDebug, type DebugSources } from "./debug-routes.ts";

const nm = namingMapper(RestMapper.fromResources(BUILTIN_RESOURCES));
const rule = compileRule(
  {
    seriesQuery: '{__name__="http_requests_total",namespace!="",pod!=""}',
    resources: { overrides: { namespace: { resource: "namespace" }, pod: { resource: "pod" } } },
    name: { matches: "^(.*)_total$", as: "${1}_per_second" },
    metricsQuery: "sum(rate(<<.Series>>{<<.LabelMatchers>>}[30s])) by (<<.GroupBy>>)",
  },
  "rules[0]",
  nm,
);
const custom = customRegistry(
  [rule],
  [[{ name: "http_requests_total", labels: ["namespace", "pod"] }]],
);
const src: DebugSources = {
  custom: () => custom,
  external: () => new ExternalRegistry(),
  ready: () => true,
  lastError: () => undefined,
};
const get = (path: string) => serveDebug(src, "GET", parseRequestTarget(path));

test("only /apis/custom.metrics.k8s.io/<v>/debug/<name> is a debug route", () => {
  assert.ok(isDebugTarget(parseRequestTarget("/apis/custom.metrics.k8s.io/v1beta2/debug/metrics")));
  assert.ok(
    !isDebugTarget(
      parseRequestTarget("/apis/custom.metrics.k8s.io/v1beta2/namespaces/debug/pods/x/m"),
    ),
  );
  assert.ok(
    !isDebugTarget(parseRequestTarget("/apis/external.metrics.k8s.io/v1beta1/debug/metrics")),
  );
});

test("debug/metrics: each listed metric with its rule and series, no value", () => {
  const r = get("/apis/custom.metrics.k8s.io/v1beta2/debug/metrics");
  assert.equal(r.status, 200);
  const body = r.body as { ready: boolean; custom: unknown[] };
  assert.equal(body.ready, true);
  assert.deepEqual(
    body.custom.find((c) => (c as { resource: string }).resource === "pods"),
    {
      resource: "pods",
      namespaced: true,
      metric: "http_requests_per_second",
      rule: "rules[0]",
      series: "http_requests_total",
      server: "default",
      url: "--prometheus-url",
    },
  );
});

test("debug/query: the PromQL the adapter would send, or why it cannot build one", () => {
  const r = get(
    "/apis/custom.metrics.k8s.io/v1beta2/debug/query?metric=http_requests_per_second&resource=pods&namespace=web&names=a,b",
  );
  assert.equal(r.status, 200);
  assert.equal(
    (r.body as { query: string }).query,
    'sum(rate(http_requests_total{namespace="web",pod=~"a|b"}[30s])) by (pod)',
  );
  const bad = get(
    "/apis/custom.metrics.k8s.io/v1beta2/debug/query?metric=http_requests_per_second&resource=pods&namespace=web&names=a&metricLabelSelector=app.kubernetes.io%2Fname%3Dx",
  );
  assert.equal(bad.status, 400);
  assert.match(
    (bad.body as { message: string }).message,
    /invalid label name "app\.kubernetes\.io\/name"/,
  );
  assert.equal(
    get("/apis/custom.metrics.k8s.io/v1beta2/debug/query?metric=nope&namespace=web").status,
    404,
  );
  assert.equal(
    serveDebug(src, "POST", parseRequestTarget("/apis/custom.metrics.k8s.io/v1beta2/debug/metrics"))
      .status,
    405,
  );
});

test("through the authenticated filter: get on resource debug is reviewed, and a denial is a 403", async () => {
  const { DelegatedAuth } = await import("../auth/delegated-auth.ts");
  const { silentLogger } = await import("../observability/logger.ts");
  const { authenticated } = await import("./handlers.ts");
  const reviews: { resourceAttributes?: Record<string, string> }[] = [];
  let allow = false;
  const api = {
    json<T>(_m: "GET" | "POST", path: string, body?: unknown): Promise<T> {
      if (path.includes("tokenreviews")) {
        return Promise.resolve({
          status: { authenticated: true, user: { username: "u", groups: ["g"] } },
        } as T);
      }
      reviews.push((body as { spec: { resourceAttributes?: Record<string, string> } }).spec);
      return Promise.resolve({ status: { allowed: allow } } as T);
    },
  };
  const auth = await DelegatedAuth.create({
    authenticationClient: api,
    authorizationClient: api,
    authentication: { skipLookup: true },
    authorizedTtlMs: 0,
    unauthorizedTtlMs: 0,
    configRefreshMs: 0,
  });
  const notServed = () => {
    throw new Error("the API handler must not see a debug route");
  };
  const filter = authenticated(auth, notServed, silentLogger(), [], undefined, src);
  const send = (url: string) =>
    new Promise<{ status: number; body: string }>((resolve) => {
      const res = {
        statusCode: 0,
        setHeader: () => res,
        end: (body: string) => {
          resolve({ status: res.statusCode, body });
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
  const url = "/apis/custom.metrics.k8s.io/v1beta2/debug/metrics";
  const denied = await send(url);
  assert.equal(denied.status, 403);
  assert.deepEqual(reviews[0]?.resourceAttributes, {
    verb: "get",
    group: "custom.metrics.k8s.io",
    version: "v1beta2",
    resource: "debug",
    name: "metrics",
  });
  allow = true;
  const ok = await send(url);
  assert.equal(ok.status, 200);
  assert.match(ok.body, /"rule":"rules\[0\]"/);
});

test("the server a rule asks (secrets masked) and the tenant the config gives a namespace", () => {
  const gpu = compileRule(
    {
      seriesQuery: '{__name__="gpu_load",namespace!="",pod!=""}',
      resources: { overrides: { namespace: { resource: "namespace" }, pod: { resource: "pod" } } },
      metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
      k8sCustomMetrics: {
        server: {
          url: "https://user:pw@prom-gpu.monitoring.svc:9091/",
          headers: { Authorization: "Bearer s3cr3t", "X-Team": "gpu" },
        },
      },
    },
    "rules[1]",
    nm,
  );
  const reg = customRegistry([gpu], [[{ name: "gpu_load", labels: ["namespace", "pod"] }]]);
  const withServer: DebugSources = {
    ...src,
    custom: () => reg,
    prometheusUrl: "http://prometheus:9090",
    tenancy: () => ({
      header: "X-Scope-OrgID",
      namespaceLabel: "tenant",
      namespaces: new Map([["payments", "finance"]]),
      default: undefined,
    }),
  };
  const at = (path: string) => serveDebug(withServer, "GET", parseRequestTarget(path));
  const m = at("/apis/custom.metrics.k8s.io/v1beta2/debug/metrics").body as {
    custom: Record<string, unknown>[];
  };
  const listed = m.custom.find((c) => c["metric"] === "gpu_load");
  assert.ok(listed);
  assert.equal(listed["server"], "prom-gpu.monitoring.svc:9091");
  assert.equal(listed["url"], "https://prom-gpu.monitoring.svc:9091");
  assert.deepEqual(listed["headers"], { Authorization: "Bearer ***", "X-Team": "gpu" });
  assert.ok(!JSON.stringify(m).includes("s3cr3t") && !JSON.stringify(m).includes("pw@"));
  const q = at(
    "/apis/custom.metrics.k8s.io/v1beta2/debug/query?metric=gpu_load&resource=pods&namespace=payments&names=a",
  );
  assert.equal(q.status, 200);
  const body = q.body as Record<string, unknown>;
  assert.equal(body["server"], "prom-gpu.monitoring.svc:9091");
  assert.deepEqual(body["tenant"], {
    tenant: "finance",
    header: "X-Scope-OrgID",
    from: "namespaces",
  });
  const other = at(
    "/apis/custom.metrics.k8s.io/v1beta2/debug/query?metric=gpu_load&resource=pods&namespace=web&names=a",
  ).body as Record<string, unknown>;
  assert.deepEqual(other["tenant"], {
    header: "X-Scope-OrgID",
    from: "the namespace's label tenant",
  });
});
