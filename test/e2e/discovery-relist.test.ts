/**
 * @module test/discovery-relist
 * A Prometheus restart must not make known metrics unknown (issue #20). The adapter runs as a real
 * process with short `--metrics-relist-interval` and `--metrics-max-age` against a real Prometheus
 * that scrapes a loopback target. Prometheus is stopped for longer than the max age and started
 * again on the same data dir without its scrape job, so the adapter's first pass after the restart
 * lists no metric (nothing seen within the max age) while queries still find the last samples;
 * the job comes back (config reload) right after that pass. Throughout, a custom and an external
 * metric request are repeated and none may answer 404. Then the scrape job really goes away, and
 * the metrics must become unknown after the confirming pass.
 *
 * The adapter's REST mapper reads the local cluster's real API server. Loopback only.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, test } from "node:test";
import { getJson, startAdapter, type RunningAdapter } from "../support/adapter.ts";
import { testCluster } from "../support/cluster.ts";
import { stopChild } from "../support/process.ts";
import { freePort } from "../support/prometheus.ts";

const PROMETHEUS = process.env["K8SCM_PROMETHEUS_BIN"] ?? "prometheus";
const T = { timeout: 180_000 };
// Max age above the interval, as the adapter requires; the confirming pass comes one interval
// (under a minute) after a held one, so the scrape job has that long to come back: 4 s was too
// short on a loaded 2-core machine (Prometheus' reload and first scrape took longer).
const RELIST_S = 8;
const MAX_AGE_S = 9;
const CUSTOM = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns1/pods/web-1/requests";
const EXTERNAL = "/apis/external.metrics.k8s.io/v1beta1/namespaces/ns1/kcmrl_queue_depth";

const ADAPTER_CONFIG = `rules:
  - seriesQuery: '{__name__=~"^kcmrl_.*",namespace!="",pod!=""}'
    resources:
      overrides:
        namespace: { resource: namespace }
        pod: { resource: pod }
    name:
      matches: "^kcmrl_(.*)$"
      as: "\${1}"
    metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)"
externalRules:
  - seriesQuery: '{__name__="kcmrl_queue_depth",queue!=""}'
    resources:
      overrides:
        namespace: { resource: namespace }
    metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)"
`;

/** The adapter's discovery lines, for a failure message. */
function discoveryLog(a: RunningAdapter): string {
  return a
    .logs()
    .split("\n")
    .filter((l) => /discover/i.test(l))
    .slice(-20)
    .join("\n");
}

let dir: string;
let target: Server;
let targetPort: number;
let promPort: number;
let prom: ChildProcess | undefined;
let promLog = "";
let adapter: RunningAdapter | undefined;

async function listen(handler: RequestListener): Promise<Server> {
  const srv = createServer(handler);
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  return srv;
}

async function close(srv: Server | undefined): Promise<void> {
  if (!srv?.listening) return;
  const closed = once(srv, "close");
  srv.close();
  srv.closeAllConnections();
  await closed;
}

function promConfig(scrape: boolean): string {
  const job = `scrape_configs:
  - job_name: kcmrl
    static_configs: [{ targets: ["127.0.0.1:${String(targetPort)}"] }]
`;
  return `global: { scrape_interval: 1s, scrape_timeout: 1s }\n${scrape ? job : ""}`;
}

/** Writes the config and starts Prometheus on the fixed port and data dir, until ready. */
async function startProm(scrape: boolean): Promise<void> {
  await writeFile(join(dir, "prometheus.yml"), promConfig(scrape));
  promLog = "";
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${String(promPort)}`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr.on("data", (d: Buffer) => {
    promLog = (promLog + d.toString()).slice(-20_000);
  });
  prom = child;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited:\n${promLog}`);
    try {
      const res = await fetch(`${promUrl()}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`prometheus not ready:\n${promLog}`);
}

/** Turns the scrape job on or off without a restart (SIGHUP reloads the config). */
async function setScrape(scrape: boolean): Promise<void> {
  await writeFile(join(dir, "prometheus.yml"), promConfig(scrape));
  prom?.kill("SIGHUP");
}

function promUrl(): string {
  return `http://127.0.0.1:${String(promPort)}`;
}

/** Metric names Prometheus has seen within the adapter's max age, as discovery asks. */
async function recentNames(): Promise<string[]> {
  const start = Math.floor(Date.now() / 1000) - MAX_AGE_S;
  const q = new URLSearchParams({ "match[]": '{__name__=~"^kcmrl_.*"}', start: String(start) });
  const res = await fetch(`${promUrl()}/api/v1/label/__name__/values?${q.toString()}`);
  const body = (await res.json()) as { data?: string[] };
  return body.data ?? [];
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // Not yet.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A sample of the adapter's own /metrics, or 0 when absent. */
async function adapterSample(name: string, labels: string): Promise<number> {
  const res = await fetch(`${adapter?.url ?? ""}/metrics`);
  const text = await res.text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "kcm-relist-"));
  const exposition = [
    'kcmrl_requests{namespace="ns1",pod="web-1"} 3',
    'kcmrl_queue_depth{namespace="ns1",queue="orders"} 5',
    "",
  ].join("\n");
  target = await listen((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(exposition);
  });
  targetPort = (target.address() as AddressInfo).port;
  // The real API server of the local cluster, for the REST mapper.
  const { kubeconfig } = await testCluster();
  const config = join(dir, "adapter.yaml");
  await writeFile(config, ADAPTER_CONFIG);
  promPort = await freePort();
  await startProm(true);
  await until("the first scrapes", async () => (await recentNames()).length === 2, 30_000);
  adapter = await startAdapter({
    prometheusUrl: promUrl(),
    kubeconfig,
    config,
    relistInterval: `${String(RELIST_S)}s`,
    maxAge: `${String(MAX_AGE_S)}s`,
    extraArgs: ["--pod-cache=false"],
  });
});

after(async () => {
  await adapter?.stop();
  if (prom) await stopChild(prom);
  await close(target);
  await rm(dir, { recursive: true, force: true });
});

test(
  "a Prometheus restart never makes a known metric unknown; a removal still does",
  T,
  async () => {
    const a = adapter;
    assert.ok(a);
    for (const path of [CUSTOM, EXTERNAL]) {
      const r = await getJson(a, path);
      assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    }

    // Both requests, again and again, until told to stop; every 404 is kept with its time.
    const notFound: string[] = [];
    let answers = 0;
    const polling = new AbortController();
    const t0 = Date.now();
    const poller = (async () => {
      while (!polling.signal.aborted) {
        for (const path of [CUSTOM, EXTERNAL]) {
          const r = await getJson(a, path).catch(() => undefined);
          answers++;
          if (r?.status === 404) {
            notFound.push(`+${String(Date.now() - t0)} ms ${path}: ${JSON.stringify(r.body)}`);
          }
        }
        await sleep(100);
      }
    })();

    // Stopped whatever happens, or its timers would keep the test process alive.
    try {
      const passes = () =>
        adapterSample("k8s_custom_metrics_discovery_runs_total", 'outcome="success"');
      const failures = () =>
        adapterSample("k8s_custom_metrics_discovery_runs_total", 'outcome="error"');
      // Down for longer than the max age: at least one pass fails meanwhile.
      const failed = await failures();
      if (prom) await stopChild(prom);
      await sleep((MAX_AGE_S + 1) * 1000);
      const before = await passes();
      await startProm(false);
      assert.deepEqual(
        await recentNames(),
        [],
        "nothing seen within the max age after the restart",
      );
      // The first successful pass after the restart saw no metric; let the scrapes come back.
      await until("a pass after the restart", async () => (await passes()) > before, 30_000);
      assert.ok((await failures()) > failed, "a pass failed while Prometheus was down");
      await setScrape(true);
      await until("the scrapes after the restart", async () => (await recentNames()).length === 2);
      // Two more intervals: the pass that would confirm, and one more.
      await sleep(2 * RELIST_S * 1000 + 500);
    } finally {
      polling.abort();
      await poller;
    }
    assert.ok(answers > 20, `only ${String(answers)} answers`);
    assert.equal(
      notFound.length,
      0,
      `${String(notFound.length)} answers 404 around the restart, first:\n${notFound.slice(0, 4).join("\n")}\n` +
        `the adapter's discovery log:\n${discoveryLog(a)}`,
    );
    assert.ok(
      (await adapterSample("k8s_custom_metrics_discovery_unconfirmed_total", 'reason="empty"')) >=
        1,
      "the empty pass was counted",
    );
    assert.match(a.logs(), /found no metrics; keeping the last good list/);

    // Really gone: the scrape job goes away (Prometheus lists a series of its head block as long as
    // anything is appended, so a target that merely stops exposing it would not do). After the max
    // age a pass finds nothing, is held, and the next one applies it.
    await setScrape(false);
    await until(
      "the metrics to become unknown",
      async () => (await getJson(a, EXTERNAL)).status === 404,
      (MAX_AGE_S + 3 * RELIST_S + 10) * 1000,
    );
    const r = await getJson(a, CUSTOM);
    assert.equal(r.status, 404, JSON.stringify(r.body));
    assert.match(JSON.stringify(r.body), /could not find the metric requests for pods"/);
    assert.match(a.logs(), /confirmed the smaller list/);
  },
);
