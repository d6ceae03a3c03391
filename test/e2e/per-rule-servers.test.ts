/**
 * @module test/per-rule-servers
 * `k8sCustomMetrics.server` on a rule, end to end: the adapter as a real process, two real
 * Prometheus instances holding different data (the `--prometheus-url` one and rule B's own), each
 * behind a recording proxy. Each rule's discovery and queries must go to its own server only, with
 * that server's headers; answers come from it; grouping stays per server; the logs name the server.
 * A third rule reaches the second Prometheus over TLS (a loopback HTTPS proxy with a certificate
 * made here by openssl), verified with the rule's own `caFile`. The adapter's /metrics count
 * requests and discovered metrics by server. Then the same config runs in an adapter registered
 * behind the aggregator, and `explain` names the server each rule asks (its credential masked),
 * and a rule's server that does not answer.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
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
import { statePaths } from "../../src/harness/paths.ts";
import { Supervisor } from "../../src/harness/supervisor.ts";
import { getJson, startAdapter, type RunningAdapter } from "../support/adapter.ts";
import { explainJson, linkOf, type CliRun } from "../support/cli.ts";
import { freshNamespace, kubectl, testCluster, waitFor } from "../support/cluster.ts";
import {
  freePort,
  startPrometheus,
  startRecordingProxy,
  type RecordedRequest,
  type RecordingProxy,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { constantSeries, type ConstantSeries } from "../support/series.ts";
import { ensureRegisteredAdapter } from "../support/registered-adapter.ts";

const T = { timeout: 180_000 };
const CM = "/apis/custom.metrics.k8s.io/v1beta1";
const EM = "/apis/external.metrics.k8s.io/v1beta1";
const PODS = 10;
const SECRET = "rule-b-secret-token";

let info: ClusterInfo;
let ns: string;
let promMain: RunningPrometheus;
let promB: RunningPrometheus;
let proxyMain: RecordingProxy;
let proxyB: RecordingProxy;
let adapter: RunningAdapter;
let dir: string;
let tls: HttpsServer;
let tlsUrl: string;
let tlsRequests = 0;

/** A self-signed certificate for 127.0.0.1, its own CA. */
async function makeCert(into: string): Promise<{ cert: string; key: string }> {
  const cert = join(into, "tls.crt");
  const key = join(into, "tls.key");
  await promisify(execFile)("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
    "-keyout",
    key,
    "-out",
    cert,
  ]);
  return { cert, key };
}

/** HTTPS in front of `target`, counting what it forwards. */
async function startTlsProxy(target: string, cert: string, key: string): Promise<string> {
  const up = new URL(target);
  tls = createHttpsServer({ cert: await readFile(cert), key: await readFile(key) }, (req, res) => {
    tlsRequests++;
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
    req.pipe(out);
  });
  tls.listen(0, "127.0.0.1");
  await once(tls, "listening");
  return `https://127.0.0.1:${String((tls.address() as AddressInfo).port)}`;
}

/** Main: `main_load` per pod. B: `b_load` per pod, and `main_load` with wrong values (900+). */
function seriesMain(): ConstantSeries[] {
  return Array.from({ length: PODS }, (_, i) => [
    "main_load",
    { namespace: ns, pod: `p-${String(i)}` },
    String(i + 1),
  ]);
}

function seriesB(): ConstantSeries[] {
  const out: ConstantSeries[] = [];
  for (let i = 0; i < PODS; i++) {
    out.push(["b_load", { namespace: ns, pod: `p-${String(i)}` }, String(50 + i)]);
    out.push(["main_load", { namespace: ns, pod: `p-${String(i)}` }, String(900 + i)]);
  }
  out.push(["b_queue", { namespace: ns, queue: "q" }, "7"]);
  out.push(["tls_load", { namespace: ns, pod: "p-0" }, "42"]);
  return out;
}

/** Other servers for rule B and the external rule (explain's config, a server that is down). */
function config(bQueueUrl?: string, bLoadUrl?: string): string {
  return `rules:
  - seriesQuery: '{__name__="main_load",namespace!="",pod!=""}'
    resources:
      overrides: { namespace: { resource: namespace }, pod: { resource: pod } }
    metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)"
  - seriesQuery: '{__name__="b_load",namespace!="",pod!=""}'
    resources:
      overrides: { namespace: { resource: namespace }, pod: { resource: pod } }
    metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)"
    k8sCustomMetrics:
      server:
        url: ${bLoadUrl ?? proxyB.url}
        headers: { X-Rule-Server: b, Authorization: "Bearer ${SECRET}" }
        timeout: 5s
  - seriesQuery: '{__name__="tls_load",namespace!="",pod!=""}'
    resources:
      overrides: { namespace: { resource: namespace }, pod: { resource: pod } }
    metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)"
    k8sCustomMetrics:
      server: { url: "${tlsUrl}", caFile: "${join(dir, "tls.crt")}" }
externalRules:
  - seriesQuery: '{__name__="b_queue"}'
    resources:
      overrides: { namespace: { resource: namespace } }
    metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)"
    k8sCustomMetrics:
      server: { url: ${bQueueUrl ?? proxyB.url}, headers: { X-Rule-Server: b } }
`;
}

function queryOf(r: RecordedRequest): string {
  const u = new URL(r.url, "http://x");
  const q = u.searchParams.get("query") ?? new URLSearchParams(r.body).get("query") ?? "";
  const m = u.searchParams.getAll("match[]").join(" ");
  return `${u.pathname} ${q} ${m}`;
}

function valueOf(body: unknown): string | undefined {
  return (body as { items?: { value: string }[] }).items?.[0]?.value;
}

before(async () => {
  info = await testCluster();
  ns = await freshNamespace(info, "kcm-rule-servers");
  promMain = await startPrometheus({ openMetrics: constantSeries(seriesMain()) });
  promB = await startPrometheus({ openMetrics: constantSeries(seriesB()) });
  // The delay makes concurrent requests overlap, so grouping has peers to merge.
  proxyMain = await startRecordingProxy(promMain.url, { delayMs: 100 });
  proxyB = await startRecordingProxy(promB.url, { delayMs: 100 });
  dir = await mkdtemp(join(tmpdir(), "kcm-rule-servers-"));
  const pair = await makeCert(dir);
  tlsUrl = await startTlsProxy(promB.url, pair.cert, pair.key);
  await writeFile(join(dir, "config.yaml"), config());
  adapter = await startAdapter({
    prometheusUrl: proxyMain.url,
    kubeconfig: info.kubeconfig,
    config: join(dir, "config.yaml"),
    relistInterval: "1m",
    maxAge: "1h",
    extraArgs: ["--v=2"],
  });
});

after(async () => {
  await adapter.stop();
  await proxyMain.stop();
  await proxyB.stop();
  tls.closeAllConnections();
  tls.close();
  await promMain.stop();
  await promB.stop();
  await rm(dir, { recursive: true, force: true });
  await kubectl(info, ["delete", "namespace", ns, "--wait=false"]).catch(() => "");
});

test("discovery: each rule on its own server; the list has both", T, async () => {
  const r = await getJson(adapter, CM);
  assert.equal(r.status, 200);
  const names = (r.body as { resources: { name: string }[] }).resources.map((x) => x.name);
  assert.ok(names.includes("pods/main_load"), names.join());
  assert.ok(names.includes("pods/b_load"), names.join());
  const e = await getJson(adapter, EM);
  const ext = (e.body as { resources: { name: string }[] }).resources.map((x) => x.name);
  assert.deepEqual(ext, ["b_queue"]);
  const atMain = proxyMain.requests.map(queryOf);
  const atB = proxyB.requests.map(queryOf);
  assert.ok(atMain.some((q) => q.includes("main_load")));
  assert.ok(!atMain.some((q) => q.includes("b_load") || q.includes("b_queue")), atMain.join("\n"));
  assert.ok(atB.some((q) => q.includes("b_load")));
  assert.ok(atB.some((q) => q.includes("b_queue")));
  assert.ok(!atB.some((q) => q.includes("main_load")), atB.join("\n"));
  // The rule's own headers go to its server only.
  assert.ok(proxyB.requests.every((q) => q.headers["x-rule-server"] === "b"));
  assert.ok(proxyMain.requests.every((q) => q.headers["x-rule-server"] === undefined));
  // The discovery log counts metrics per server.
  assert.match(adapter.logs(), new RegExp(`"servers":\\{[^}]*"${proxyB.url}":`));
});

test("values come from each rule's server, grouped per server", T, async () => {
  const fromMain = proxyMain.requests.length;
  const fromB = proxyB.requests.length;
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < PODS; i++) {
    for (const [metric, base] of [
      ["main_load", 1],
      ["b_load", 50],
    ] as const) {
      jobs.push(
        getJson(adapter, `${CM}/namespaces/${ns}/pods/p-${String(i)}/${metric}`).then((r) => {
          assert.equal(r.status, 200, JSON.stringify(r.body));
          assert.equal(valueOf(r.body), String(base + i), `${metric} p-${String(i)}`);
        }),
      );
    }
  }
  await Promise.all(jobs);
  const qMain = proxyMain.requests.slice(fromMain).map(queryOf);
  const qB = proxyB.requests.slice(fromB).map(queryOf);
  assert.ok(qMain.length > 0 && qB.length > 0);
  assert.ok(
    qMain.every((q) => q.includes("main_load")),
    qMain.join("\n"),
  );
  assert.ok(
    qB.every((q) => q.includes("b_load")),
    qB.join("\n"),
  );
  // Grouping merged requests (fewer queries than requests), within each server.
  assert.ok(qMain.length + qB.length < jobs.length, `${String(qMain.length + qB.length)} queries`);
});

test("external rule on its own server", T, async () => {
  const r = await getJson(adapter, `${EM}/namespaces/${ns}/b_queue`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(
    (r.body as { items: { value: string }[] }).items.map((i) => i.value),
    ["7"],
  );
});

test("a rule's server over TLS, verified with its own caFile", T, async () => {
  const before = tlsRequests;
  const r = await getJson(adapter, `${CM}/namespaces/${ns}/pods/p-0/tls_load`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(valueOf(r.body), "42");
  assert.ok(tlsRequests > before, "the query went through the HTTPS server");
  // Its discovery went there too: the plain-HTTP way to the same Prometheus never saw it.
  assert.ok(!proxyB.requests.some((q) => queryOf(q).includes("tls_load")));
});

test("the logs name the server that answered", T, () => {
  const lines = adapter
    .logs()
    .split("\n")
    .filter((l) => l.includes('"query"') && l.includes('"server"'));
  const servers = (metric: string) =>
    new Set(
      lines
        .filter((l) => l.includes(metric))
        .map((l) => (JSON.parse(l) as { server: string }).server),
    );
  assert.deepEqual([...servers("b_load")], [proxyB.url]);
  assert.deepEqual([...servers("main_load")], [proxyMain.url]);
});

/** A sample's value in /metrics text: the line of `name` carrying every one of `labels`. */
function samples(text: string, name: string, ...labels: string[]): number[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)))
    .map((l) => Number(l.slice(l.lastIndexOf(" ") + 1)));
}

test(
  "/metrics: requests and discovered metrics by server; the discovery log per server",
  T,
  async () => {
    const text = await (await fetch(`${adapter.url}/metrics`)).text();
    const hostB = new URL(proxyB.url).host;
    const hostTls = new URL(tlsUrl).host;
    const count = "k8s_custom_metrics_prometheus_request_duration_seconds_count";
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    assert.ok(sum(samples(text, count, 'server="default"')) >= 1, text);
    assert.ok(sum(samples(text, count, `server="${hostB}"`, 'endpoint="/api/v1/query"')) >= 1);
    assert.ok(sum(samples(text, count, `server="${hostTls}"`)) >= 1);
    // No other server value: they come from the config only.
    const servers = new Set(
      text
        .split("\n")
        .filter((l) => l.startsWith(`${count}{`))
        .map((l) => /server="([^"]*)"/.exec(l)?.[1]),
    );
    assert.deepEqual([...servers].sort(), [hostB, hostTls, "default"].sort());
    const gauge = "k8s_custom_metrics_discovered_metrics";
    // Each custom metric is listed for pods and for namespaces.
    assert.deepEqual(samples(text, gauge, 'api="custom"', 'server="default"'), [2]);
    assert.deepEqual(samples(text, gauge, 'api="custom"', `server="${hostB}"`), [2]);
    assert.deepEqual(samples(text, gauge, 'api="external"', `server="${hostB}"`), [1]);
    assert.deepEqual(samples(text, gauge, 'api="custom"', `server="${hostTls}"`), [2]);
    assert.deepEqual(samples(text, gauge, 'api="external"', 'server="default"'), [0]);
    // The discovery log: requests per server, each server's own.
    const line = adapter
      .logs()
      .split("\n")
      .find((l) => l.includes('"discovered metrics"'));
    assert.ok(line, adapter.logs());
    const r = (JSON.parse(line) as { serverRequests: Record<string, Record<string, number>> })
      .serverRequests;
    assert.ok((r[proxyB.url]?.["label_values"] ?? 0) >= 1, line);
    assert.ok((r[proxyMain.url]?.["label_values"] ?? 0) >= 1, line);
    assert.ok((r[tlsUrl]?.["label_values"] ?? 0) >= 1, line);
  },
);

function explain(...args: string[]): Promise<{ run: CliRun; report: ExplainReport }> {
  return explainJson([
    ...args,
    "--kubeconfig",
    info.kubeconfig,
    "--prometheus-url",
    proxyMain.url,
    "--metrics-max-age",
    "1h",
  ]);
}

describe("explain with the adapter registered", () => {
  const NAME = "adapter-rule-servers";
  const APIS = API_SERVICES.filter((a) => a.group !== "metrics.k8s.io");
  before(async () => {
    await ensureRegisteredAdapter(info);
    await startRegistered(info, {
      name: NAME,
      port: await freePort(),
      config: join(dir, "config.yaml"),
      relistInterval: "1m",
      extraArgs: [`--prometheus-url=${proxyMain.url}`, "--metrics-max-age=1h"],
      apiServices: APIS,
    });
  });
  after(async () => {
    try {
      await publishApiServices(info, existingRegistration(info), APIS);
    } finally {
      const p = statePaths(info.stateDir);
      await new Supervisor(p.logs, p.run).stop(NAME);
    }
  });

  test("names the rule's server and its headers, the credential masked", T, async () => {
    const { run, report } = await waitFor(
      "explain to find b_queue listed",
      async () => {
        const r = await explain(
          "metric",
          "b_queue",
          "--external",
          "-n",
          ns,
          "--config",
          join(dir, "config.yaml"),
        );
        return r.report.firstBroken?.step === "listed" ||
          r.report.firstBroken?.step === "apiservice"
          ? undefined
          : r;
      },
      90_000,
      2000,
    );
    assert.equal(run.code, 0, JSON.stringify(report, null, 2));
    assert.ok(!run.stdout.includes(SECRET));
    const rule = linkOf(report, "rule");
    assert.match(rule.title, /externalRules\[0\]/);
    assert.deepEqual(rule.backend, {
      server: new URL(proxyB.url).host,
      url: proxyB.url,
      headers: { "X-Rule-Server": "b" },
    });
    assert.deepEqual(linkOf(report, "query").backend, rule.backend);
    // b_load's rule carries the credential: shown masked, in the text output too.
    const b = await explain(
      "metric",
      "b_load",
      "-n",
      ns,
      "--for",
      "pods/p-0",
      "--config",
      join(dir, "config.yaml"),
    );
    assert.ok(!b.run.stdout.includes(SECRET), b.run.stdout);
    assert.deepEqual(linkOf(b.report, "rule").backend?.headers, {
      "X-Rule-Server": "b",
      Authorization: "Bearer ***",
    });
  });

  test("a rule's server that does not answer is named at the query", T, async () => {
    const dead = `http://127.0.0.1:${String(await freePort())}`;
    await writeFile(join(dir, "explain-dead.yaml"), config(dead));
    const { run, report } = await explain(
      "metric",
      "b_queue",
      "--external",
      "-n",
      ns,
      "--config",
      join(dir, "explain-dead.yaml"),
    );
    assert.equal(run.code, 1);
    const b = report.firstBroken;
    assert.equal(b?.step, "query", JSON.stringify(report, null, 2));
    assert.equal(b.kind, "prometheus-unreachable");
    assert.match(b.title, /externalRules\[0\]'s server does not answer/);
    assert.match(b.cause ?? "", new RegExp(`server ${dead} cannot be reached`));
    assert.match(b.fix ?? "", /externalRules\[0\]\.k8sCustomMetrics\.server\.url/);
    assert.equal(b.backend?.url, dead);
  });

  test("a custom rule's server that does not answer, while --prometheus-url does", T, async () => {
    const dead = `http://127.0.0.1:${String(await freePort())}`;
    await writeFile(join(dir, "explain-dead-b.yaml"), config(undefined, dead));
    const { run, report } = await explain(
      "metric",
      "b_load",
      "-n",
      ns,
      "--for",
      "pods/p-0",
      "--config",
      join(dir, "explain-dead-b.yaml"),
    );
    assert.equal(run.code, 1);
    const b = report.firstBroken;
    assert.equal(b?.step, "rule", JSON.stringify(report, null, 2));
    assert.equal(b.kind, "prometheus-unreachable");
    assert.match(b.title, /rules\[1\]: its server does not answer/);
    assert.match(b.cause ?? "", new RegExp(`its server ${dead} does not answer`));
    assert.match(b.fix ?? "", /rules\[1\]\.k8sCustomMetrics\.server\.url/);
    assert.equal(b.backend?.url, dead);
  });
});
