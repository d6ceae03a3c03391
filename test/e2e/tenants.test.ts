/**
 * @module test/tenants
 * `k8sCustomMetrics.tenants` end to end: the adapter as a real process, two real Prometheus
 * instances (one per tenant) behind a loopback router that picks the instance by
 * `X-Scope-OrgID`, as Mimir or Cortex do, records every request with its header, and refuses a
 * request without one. Each Prometheus also holds the other tenant's namespace with wrong values,
 * so an answer taken from the wrong tenant is visible. Tenants: the namespace label (alpha), the
 * config's mapping (beta), none (refused).
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ExplainReport } from "../../src/diagnostics/explain/report.ts";
import { startAdapter as startRegistered } from "../../src/harness/adapter-process.ts";
import {
  API_SERVICES,
  existingRegistration,
  publishApiServices,
} from "../../src/harness/adapter-registration.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { BUILTIN_RESOURCES } from "../../src/diagnostics/builtin-resources.ts";
import { RestMapper } from "../../src/kube/rest-mapper.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { Backends, readTenancy } from "../../src/providers/prometheus/backends.ts";
import { PrometheusClient } from "../../src/prometheus/client.ts";
import { namingMapper } from "../../src/providers/prometheus/rules.ts";
import { PrometheusResourceSource } from "../../src/providers/resource/prometheus-source.ts";
import { statePaths } from "../../src/harness/paths.ts";
import { Supervisor } from "../../src/harness/supervisor.ts";
import { getJson, startAdapter, type RunningAdapter } from "../support/adapter.ts";
import { explainJson, linkOf } from "../support/cli.ts";
import { freshNamespace, kubectl, kubectlJson, testCluster, waitFor } from "../support/cluster.ts";
import { applyObjects } from "../support/objects.ts";
import { freePort, startPrometheus, type RunningPrometheus } from "../support/prometheus.ts";
import { ensureRegisteredAdapter } from "../support/registered-adapter.ts";
import { constantSeries, type ConstantSeries } from "../support/series.ts";

const T = { timeout: 180_000 };
const CM = "/apis/custom.metrics.k8s.io/v1beta1";
const EM = "/apis/external.metrics.k8s.io/v1beta1";

interface Seen {
  readonly path: string;
  readonly query: string | null;
  readonly tenant: string | undefined;
}

interface Router {
  readonly url: string;
  readonly seen: Seen[];
  stop(): Promise<void>;
}

/** Forwards by X-Scope-OrgID to that tenant's Prometheus; 401 without a known one (as Mimir). */
async function startTenantRouter(
  targets: Record<string, string>,
  delayMs: number,
): Promise<Router> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const h = req.headers["x-scope-orgid"];
      const tenant = Array.isArray(h) ? h.join(",") : h;
      const url = new URL(req.url ?? "/", "http://x");
      const form = new URLSearchParams(body.toString());
      seen.push({
        path: url.pathname,
        query: url.searchParams.get("query") ?? form.get("query"),
        tenant,
      });
      const target = tenant === undefined ? undefined : targets[tenant];
      if (target === undefined) {
        res.writeHead(401, { "content-type": "text/plain" }).end("no org id");
        return;
      }
      const up = new URL(target);
      setTimeout(() => {
        const out = httpRequest(
          {
            host: up.hostname,
            port: up.port,
            method: req.method ?? "GET",
            path: req.url ?? "/",
            headers: { ...req.headers, host: up.host },
          },
          (r) => {
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
          },
        );
        out.on("error", (e) => res.writeHead(502).end(String(e)));
        out.end(body);
      }, delayMs);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    seen,
    async stop() {
      const closed = once(server, "close");
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

let info: ClusterInfo;
let nsA: string;
let nsB: string;
let nsC: string;
let alpha: RunningPrometheus;
let beta: RunningPrometheus;
let router: Router;
let adapter: RunningAdapter;
let dir: string;

/** The value of a named object's MetricValueList. */
function valueOf(body: unknown): string | undefined {
  return (body as { items?: { value: string }[] }).items?.[0]?.value;
}

const PODS = 12;

/** One tenant's data: its namespace right, the other one's wrong (1000 + i), its own metric. */
function tenantSeries(own: string, other: string, base: number, only: string): ConstantSeries[] {
  const out: ConstantSeries[] = [];
  for (let i = 0; i < PODS; i++) {
    out.push(["kcm_requests", { namespace: own, pod: `p-${String(i)}` }, String(base + i)]);
    out.push(["kcm_requests", { namespace: other, pod: `p-${String(i)}` }, String(1000 + i)]);
  }
  out.push([only, { namespace: own, pod: "p-0" }, "1"]);
  out.push(["ext_depth", { namespace: own, queue: "q" }, String(base)]);
  out.push(["ext_depth", { namespace: other, queue: "q" }, "1000"]);
  // resourceRules' series (metrics.k8s.io): CPU cores and memory bytes, and one node.
  for (const [ns, v] of [
    [own, base],
    [other, 1000],
  ] as const) {
    out.push(["res_cpu", { namespace: ns, pod: "p-0", container: "c" }, String(v)]);
    out.push(["res_mem", { namespace: ns, pod: "p-0", container: "c" }, String(v * 1024)]);
  }
  out.push(["res_node_cpu", { node: "n-1" }, String(base)]);
  out.push(["res_node_mem", { node: "n-1" }, String(base * 1024)]);
  return out;
}

function config(): string {
  return `rules:
  - seriesQuery: '{__name__=~"^kcm_.*",namespace!="",pod!=""}'
    resources:
      overrides:
        namespace: { resource: namespace }
        pod: { resource: pod }
    name: { matches: "^kcm_(.*)$", as: "\${1}" }
    metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)"
externalRules:
  - seriesQuery: '{__name__="ext_depth"}'
    resources:
      overrides:
        namespace: { resource: namespace }
    metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)"
k8sCustomMetrics:
  tenants:
    namespaceLabel: kcm-test-tenant
    namespaces:
      ${nsB}: beta
`;
}

before(async () => {
  info = await testCluster();
  nsA = await freshNamespace(info, "kcm-tenant-a");
  nsB = await freshNamespace(info, "kcm-tenant-b");
  nsC = await freshNamespace(info, "kcm-tenant-c");
  await kubectl(info, ["label", "namespace", nsA, "kcm-test-tenant=alpha"]);
  // A label saying alpha on B: the config's mapping (beta) wins over it.
  await kubectl(info, ["label", "namespace", nsB, "kcm-test-tenant=alpha"]);
  alpha = await startPrometheus({
    openMetrics: constantSeries(tenantSeries(nsA, nsB, 1, "kcm_alpha_only")),
  });
  beta = await startPrometheus({
    openMetrics: constantSeries(tenantSeries(nsB, nsA, 100, "kcm_beta_only")),
  });
  // A delay makes concurrent requests overlap, so grouping and coalescing have work to do.
  router = await startTenantRouter({ alpha: alpha.url, beta: beta.url }, 150);
  dir = await mkdtemp(join(tmpdir(), "kcm-tenants-"));
  await writeFile(join(dir, "config.yaml"), config());
  adapter = await startAdapter({
    prometheusUrl: router.url,
    kubeconfig: info.kubeconfig,
    config: join(dir, "config.yaml"),
    relistInterval: "1m",
    maxAge: "1h",
  });
});

after(async () => {
  await adapter.stop();
  await router.stop();
  await alpha.stop();
  await beta.stop();
  await rm(dir, { recursive: true, force: true });
  for (const ns of [nsA, nsB, nsC]) {
    await kubectl(info, ["delete", "namespace", ns, "--wait=false"]).catch(() => "");
  }
});

/** Every request the router saw carried a tenant the config gives. */
function assertAllTenanted(): void {
  const bad = router.seen.filter((s) => s.tenant !== "alpha" && s.tenant !== "beta");
  assert.deepEqual(bad, [], "requests without a known tenant");
}

/** Every query names only namespaces of the tenant it was sent as. */
function assertQueriesMatchTenants(): void {
  const owner: Record<string, string> = { [nsA]: "alpha", [nsB]: "beta" };
  for (const s of router.seen) {
    if (s.query === null) continue;
    for (const ns of [nsA, nsB, nsC]) {
      if (s.query.includes(ns)) {
        assert.equal(
          owner[ns],
          s.tenant,
          `query for ${ns} sent as ${String(s.tenant)}: ${s.query}`,
        );
      }
    }
  }
}

test("discovery: once per tenant, each with its header; the list is their union", T, async () => {
  const listed = router.seen.filter((s) => s.path === "/api/v1/label/__name__/values");
  assert.deepEqual([...new Set(listed.map((s) => s.tenant))].sort(), ["alpha", "beta"]);
  assertAllTenanted();
  const r = await getJson(adapter, CM);
  assert.equal(r.status, 200);
  const names = new Set((r.body as { resources: { name: string }[] }).resources.map((x) => x.name));
  for (const n of ["pods/requests", "pods/alpha_only", "pods/beta_only"]) {
    assert.ok(names.has(n), `${n} listed`);
  }
});

test("discovery per tenant: a metric only one tenant has is unknown to the other", T, async () => {
  const a = await getJson(adapter, `${CM}/namespaces/${nsA}/pods/p-0/alpha_only`);
  assert.equal(a.status, 200, JSON.stringify(a.body));
  const b = await getJson(adapter, `${CM}/namespaces/${nsB}/pods/p-0/alpha_only`);
  assert.equal(b.status, 404, JSON.stringify(b.body));
  const c = await getJson(adapter, `${CM}/namespaces/${nsB}/pods/p-0/beta_only`);
  assert.equal(c.status, 200, JSON.stringify(c.body));
});

test(
  "values come from the namespace's tenant: label (alpha), mapping over label (beta)",
  T,
  async () => {
    const a = await getJson(adapter, `${CM}/namespaces/${nsA}/pods/p-3/requests`);
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(valueOf(a.body), "4");
    const b = await getJson(adapter, `${CM}/namespaces/${nsB}/pods/p-3/requests`);
    assert.equal(b.status, 200, JSON.stringify(b.body));
    assert.equal(valueOf(b.body), "103");
    assertQueriesMatchTenants();
  },
);

test("a tenant header in the API request does not choose the tenant", T, async () => {
  const res = await fetch(`${adapter.url}${CM}/namespaces/${nsA}/pods/p-1/requests`, {
    headers: { "X-Scope-OrgID": "beta" },
    signal: AbortSignal.timeout(20_000),
  });
  assert.equal(res.status, 200);
  assert.equal(valueOf(await res.json()), "2");
});

test("concurrent requests of both tenants: grouped and coalesced per tenant only", T, async () => {
  const from = router.seen.length;
  const jobs: Promise<void>[] = [];
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < PODS; i++) {
      for (const [ns, base] of [
        [nsA, 1],
        [nsB, 100],
      ] as const) {
        jobs.push(
          getJson(adapter, `${CM}/namespaces/${ns}/pods/p-${String(i)}/requests`).then((r) => {
            assert.equal(r.status, 200, JSON.stringify(r.body));
            assert.equal(valueOf(r.body), String(base + i), `${ns} p-${String(i)}`);
          }),
        );
      }
    }
  }
  await Promise.all(jobs);
  const queries = router.seen.slice(from).filter((s) => s.path === "/api/v1/query");
  // Grouping or coalescing did happen (fewer queries than requests), and never across tenants.
  assert.ok(
    queries.length < jobs.length,
    `${String(queries.length)} queries for ${String(jobs.length)} requests`,
  );
  assertQueriesMatchTenants();
  assertAllTenanted();
});

test("external metrics: the request namespace's tenant", T, async () => {
  const a = await getJson(adapter, `${EM}/namespaces/${nsA}/ext_depth`);
  const b = await getJson(adapter, `${EM}/namespaces/${nsB}/ext_depth`);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  assert.deepEqual(
    (a.body as { items: { value: string }[] }).items.map((i) => i.value),
    ["1"],
  );
  assert.deepEqual(
    (b.body as { items: { value: string }[] }).items.map((i) => i.value),
    ["100"],
  );
  assertQueriesMatchTenants();
});

test("a namespace without a tenant is refused and nothing is queried for it", T, async () => {
  const from = router.seen.length;
  const r = await getJson(adapter, `${CM}/namespaces/${nsC}/pods/p-0/requests`);
  assert.equal(r.status, 404, JSON.stringify(r.body));
  assert.match((r.body as { message: string }).message, /no tenant for namespace/);
  const e = await getJson(adapter, `${EM}/namespaces/${nsC}/ext_depth`);
  assert.equal(e.status, 404, JSON.stringify(e.body));
  assert.deepEqual(
    router.seen.slice(from).filter((s) => s.query?.includes(nsC)),
    [],
  );
  assertAllTenanted();
});

async function explain(...args: string[]): Promise<{ code: number; report: ExplainReport }> {
  const { run, report } = await explainJson([
    ...args,
    "--config",
    join(dir, "config.yaml"),
    "--kubeconfig",
    info.kubeconfig,
    "--prometheus-url",
    router.url,
    "--metrics-max-age",
    "1h",
  ]);
  return { code: run.code, report };
}

describe("explain with the adapter registered", () => {
  const NAME = "adapter-tenants";
  const APIS = API_SERVICES.filter((a) => a.group !== "metrics.k8s.io");
  before(async () => {
    await ensureRegisteredAdapter(info);
    await startRegistered(info, {
      name: NAME,
      port: await freePort(),
      config: join(dir, "config.yaml"),
      relistInterval: "1m",
      extraArgs: [`--prometheus-url=${router.url}`, "--metrics-max-age=1h"],
      apiServices: APIS,
    });
    // Until the aggregator sends to it and its discovery has both tenants.
    await waitFor(
      "the registered adapter to list pods/alpha_only",
      async () => {
        const l = JSON.parse(
          await kubectl(info, ["get", "--raw", "/apis/custom.metrics.k8s.io/v1beta2"]),
        ) as { resources: { name: string }[] };
        return l.resources.some((r) => r.name === "pods/alpha_only") ? true : undefined;
      },
      90_000,
      1000,
    );
  });
  after(async () => {
    try {
      await publishApiServices(info, existingRegistration(info), APIS);
    } finally {
      const p = statePaths(info.stateDir);
      await new Supervisor(p.logs, p.run).stop(NAME);
    }
  });

  test("names the tenant a namespace is asked as, and the server", T, async () => {
    const { report } = await explain("metric", "requests", "-n", nsA, "--for", "pods/p-1");
    const rule = linkOf(report, "rule");
    assert.equal(rule.status, "ok", JSON.stringify(report, null, 2));
    assert.deepEqual(rule.backend, {
      server: "default",
      url: router.url,
      tenant: "alpha",
      tenantHeader: "X-Scope-OrgID",
      headers: { "X-Scope-OrgID": "alpha" },
    });
    // The mapping wins over the namespace's label (alpha) for B.
    const b = await explain("metric", "requests", "-n", nsB, "--for", "pods/p-1");
    assert.equal(linkOf(b.report, "rule").backend?.tenant, "beta");
  });

  test("a metric only another tenant has", T, async () => {
    const { code, report } = await explain("metric", "alpha_only", "-n", nsB, "--for", "pods/p-0");
    assert.equal(code, 1);
    const b = report.firstBroken;
    assert.equal(b?.kind, "metric-other-tenant", JSON.stringify(report, null, 2));
    assert.equal(b.step, "listed");
    assert.match(b.title, /but not for tenant beta/);
    assert.match(b.cause ?? "", /only tenant alpha has them/);
    assert.equal(b.backend?.tenant, "beta");
  });

  test("a namespace without a tenant: named, and nothing sent for it", T, async () => {
    const before = router.seen.length;
    const { code, report } = await explain("metric", "requests", "-n", nsC, "--for", "pods/p-0");
    assert.equal(code, 1);
    const b = report.firstBroken;
    assert.equal(b?.kind, "no-tenant", JSON.stringify(report, null, 2));
    assert.equal(b.step, "rule");
    assert.match(b.cause ?? "", new RegExp(`no tenant for namespace ${nsC}`));
    assert.match(b.fix ?? "", /kcm-test-tenant=<tenant>/);
    assert.deepEqual(
      router.seen.slice(before).filter((s) => s.tenant === undefined),
      [],
    );
  });
});

test(
  "resourceRules (metrics.k8s.io): pods as their namespace's tenant, nodes as the default",
  T,
  async () => {
    const main = await PrometheusClient.create({ url: router.url, coalesceWindowMs: 0 });
    const backends = (dflt: string | undefined) =>
      new Backends({
        main,
        tenancy: readTenancy({
          namespaceLabel: "kcm-test-tenant",
          namespaces: { [nsB]: "beta" },
          ...(dflt === undefined ? {} : { default: dflt }),
        }),
        namespaceLabels: async (ns) =>
          (
            await kubectlJson<{ metadata: { labels?: Record<string, string> } }>(info, [
              "get",
              "namespace",
              ns,
            ])
          ).metadata.labels ?? {},
      });
    const rule = (series: string, node: string) => ({
      containerQuery: `sum(${series}{<<.LabelMatchers>>}) by (<<.GroupBy>>)`,
      nodeQuery: `sum(${node}{<<.LabelMatchers>>}) by (<<.GroupBy>>)`,
      resources: {
        overrides: {
          namespace: { resource: "namespace" },
          pod: { resource: "pod" },
          node: { resource: "node" },
        },
      },
      containerLabel: "container",
    });
    const source = (b: Backends) =>
      new PrometheusResourceSource({
        prometheus: main,
        tenants: b.resourceTenants(),
        rules: {
          cpu: rule("res_cpu", "res_node_cpu"),
          memory: rule("res_mem", "res_node_mem"),
          window: "1m",
        },
        mapper: namingMapper(RestMapper.fromResources(BUILTIN_RESOURCES)),
        log: silentLogger(),
      });
    try {
      const before = router.seen.length;
      const noDefault = source(backends(undefined));
      const pods = await noDefault.podMetrics(
        [nsA, nsB, nsC].map((namespace) => ({ namespace, name: "p-0", labels: {} })),
      );
      const cpu = pods.map((p) => p?.containers[0]?.usage.cpu.toString());
      // A: label alpha (1 core); B: mapping beta over its label (100 cores); C: no tenant, left out.
      assert.deepEqual(cpu, ["1", "100", undefined]);
      assert.equal(pods[1]?.containers[0]?.usage.memory.toString(), "100Ki");
      // Nodes are cluster-scoped: no default tenant, no query.
      assert.deepEqual(await noDefault.nodeMetrics([{ name: "n-1", labels: {} }]), [undefined]);
      const sent = router.seen.slice(before).filter((x) => x.query?.includes("res_") === true);
      assert.ok(sent.length >= 4, JSON.stringify(sent));
      for (const x of sent) {
        assert.ok(x.tenant === "alpha" || x.tenant === "beta", JSON.stringify(x));
        assert.ok(
          !(x.query ?? "").includes(nsC),
          "nothing sent for the namespace without a tenant",
        );
        if ((x.query ?? "").includes(nsA)) assert.equal(x.tenant, "alpha");
        if ((x.query ?? "").includes(nsB)) assert.equal(x.tenant, "beta");
      }
      // With a default tenant, nodes are asked as it.
      const mark = router.seen.length;
      const nodes = await source(backends("beta")).nodeMetrics([{ name: "n-1", labels: {} }]);
      assert.equal(nodes[0]?.usage.cpu.toString(), "100");
      const nodeQueries = router.seen.slice(mark).filter((x) => x.query?.includes("res_node_"));
      assert.deepEqual(
        nodeQueries.map((x) => x.tenant),
        ["beta", "beta"],
      );
    } finally {
      await main.close();
    }
  },
);

test(
  "the adapter's metrics.k8s.io from resourceRules: each namespace's pods asked as its tenant",
  T,
  async () => {
    // Pod objects bound to a node that does not exist (the node agent leaves them alone), marked
    // Running through the status subresource: metrics.k8s.io lists Running pods only.
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p-0" },
      spec: { nodeName: "kcm-absent-node", containers: [{ name: "c", image: "busybox" }] },
    };
    for (const ns of [nsA, nsB, nsC]) {
      await applyObjects(info, [pod], ns);
      await kubectl(info, [
        "-n",
        ns,
        "patch",
        "pod",
        "p-0",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"phase":"Running"}}',
      ]);
    }
    const withResources = join(dir, "config-resources.yaml");
    const rule = (series: string, node: string) => `
    containerQuery: "sum(${series}{<<.LabelMatchers>>}) by (<<.GroupBy>>)"
    nodeQuery: "sum(${node}{<<.LabelMatchers>>}) by (<<.GroupBy>>)"
    resources:
      overrides:
        namespace: { resource: namespace }
        pod: { resource: pod }
        node: { resource: node }
    containerLabel: container`;
    await writeFile(
      withResources,
      `${config()}resourceRules:
  cpu:${rule("res_cpu", "res_node_cpu")}
  memory:${rule("res_mem", "res_node_mem")}
  window: 1m
`,
    );
    const second = await startAdapter({
      prometheusUrl: router.url,
      kubeconfig: info.kubeconfig,
      config: withResources,
      relistInterval: "1m",
      maxAge: "1h",
      extraArgs: ["--resource-metrics-source=prometheus"],
    });
    try {
      const mark = router.seen.length;
      const cpuOf = async (ns: string) => {
        const r = await getJson(second, `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods/p-0`);
        const body = r.body as { containers?: { usage: { cpu: string } }[] };
        return r.status === 200 ? body.containers?.[0]?.usage.cpu : `HTTP ${String(r.status)}`;
      };
      // A: label alpha (1 core); B: the mapping's beta over its label (100 cores).
      assert.equal(await cpuOf(nsA), "1");
      assert.equal(await cpuOf(nsB), "100");
      // C has no tenant: no metrics, and nothing sent for it.
      assert.equal(await cpuOf(nsC), "HTTP 404");
      const sent = router.seen.slice(mark).filter((x) => x.query?.includes("res_") === true);
      assert.ok(sent.length >= 4, JSON.stringify(sent));
      assertAllTenanted();
      assertQueriesMatchTenants();
    } finally {
      await second.stop();
    }
  },
);
