/**
 * @module test/compare
 * `k8s-custom-metrics compare` as a user runs it, against a cluster whose custom and external
 * metrics APIs are served by prometheus-adapter v0.12.0 (registered behind the aggregator for this
 * file, then given back to our registered adapter) and whose metrics.k8s.io is served by our
 * registered kubelet-source adapter. HPAs of every kind: Pods, Object, External, Resource.
 */
import { after, before, describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";
import type { CompareReport } from "../../src/compare/types.ts";
import {
  DEFAULT_ADAPTER_CONFIG,
  apiServiceAvailability,
} from "../../src/harness/adapter-process.ts";
import {
  API_SERVICES,
  existingRegistration,
  publishApiServices,
} from "../../src/harness/adapter-registration.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { freshNamespace, kubectl, kubectlJson, testCluster, waitFor } from "../support/cluster.ts";
import { applyObjects } from "../support/objects.ts";
import { ensureRegisteredAdapter } from "../support/registered-adapter.ts";
import { startUpstreamAdapter, type RunningUpstream } from "../support/upstream-adapter.ts";

const exec = promisify(execFile);
const CLI = new URL("../../bin/k8s-custom-metrics.js", import.meta.url).pathname;
const T = { timeout: 300_000 };
/** The groups prometheus-adapter takes over here; metrics.k8s.io stays with ours (kubelet). */
const TAKEN = API_SERVICES.filter((a) => a.group !== "metrics.k8s.io");
const QUEUE_DEPTH = 25;

let info: ClusterInfo;
let ns = "";
let dir = "";
let upstream: RunningUpstream | undefined;
let repointed = false;

/**
 * A Resource HPA (memory, AverageValue) on an nginx Deployment of its own: nginx's resident memory
 * holds still, so two kubelet sources sampling a resolution apart see the same (a fresh Node.js
 * process grows by more than the tolerance in its first minute).
 */
const resourceObjects = [
  {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "mem" },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "mem" } },
      template: {
        metadata: { labels: { app: "mem" } },
        spec: { containers: [{ name: "nginx", image: "nginx:1.27" }] },
      },
    },
  },
  {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "mem" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "mem" },
      minReplicas: 1,
      maxReplicas: 2,
      metrics: [
        {
          type: "Resource",
          resource: { name: "memory", target: { type: "AverageValue", averageValue: "500Mi" } },
        },
      ],
    },
  },
];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function compare(config: string, extra: string[] = []): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(
      process.execPath,
      [
        CLI,
        "compare",
        `--config=${config}`,
        `--prometheus-url=${info.prometheusUrl}`,
        `--kubeconfig=${info.kubeconfig}`,
        `--namespace=${ns}`,
        // Ours serves metrics.k8s.io from the node agent's kubelet endpoint, as the registered one.
        "--resource-metrics-source=kubelet",
        "--kubelet-scheme=http",
        "--kubelet-use-node-status-port",
        ...extra,
      ],
      { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof err.code !== "number") throw e;
    return { code: err.code, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

async function compareJson(config: string): Promise<{ run: Run; report: CompareReport }> {
  const run = await compare(config, ["-o", "json"]);
  assert.ok(run.code === 0 || run.code === 1, `exit ${String(run.code)}: ${run.stderr}`);
  return { run, report: JSON.parse(run.stdout) as CompareReport };
}

/** AverageValue: the sum over status.replicas pods, so 25 over 1..3 replicas is at least 8. */
const QUEUE_FLOOR_MILLI = 8_000;

function queueMetric(
  r: CompareReport,
): CompareReport["hpas"][number]["metrics"][number] | undefined {
  return r.hpas.find((h) => h.name === "queue-worker")?.metrics[0];
}

/** Every metric of every HPA has a value on both sides (pods scraped, rates formed). */
function allValued(r: CompareReport): boolean {
  return r.hpas.every(
    (h) =>
      h.metrics.length > 0 &&
      h.metrics.every((m) => m.ours.value !== undefined && m.theirs.value !== undefined),
  );
}

async function apiServicePorts(): Promise<Map<string, number | undefined>> {
  const list = await kubectlJson<{
    items: { metadata: { name: string }; spec: { service?: { port?: number } | null } }[];
  }>(info, ["get", "apiservices"]);
  return new Map(list.items.map((a) => [a.metadata.name, a.spec.service?.port]));
}

/** Waits until the aggregator sends `TAKEN` to `port` and reports them Available. */
async function servedOn(port: number, what: string): Promise<void> {
  await waitFor(
    what,
    async () => {
      const [ports, avail] = await Promise.all([apiServicePorts(), apiServiceAvailability(info)]);
      return TAKEN.every((a) => {
        const name = `${a.version}.${a.group}`;
        return ports.get(name) === port && avail.get(name)?.status === "True";
      })
        ? true
        : undefined;
    },
    90_000,
    1000,
  );
}

before(async () => {
  info = await testCluster();
  const ours = await ensureRegisteredAdapter(info);
  dir = await mkdtemp(join(tmpdir(), "kcm-compare-"));
  ns = await freshNamespace(info, "compare");
  for (const f of [
    "seed/nginx.yaml",
    "requests-per-second/demo-app.yaml",
    "external/queue-worker.yaml",
    "object/service-rps.yaml",
  ]) {
    await kubectl(info, [
      "-n",
      ns,
      "apply",
      "-f",
      new URL(`../../examples/${f}`, import.meta.url).pathname,
    ]);
  }
  await applyObjects(info, resourceObjects, ns);
  // A queue depth other than 0, so a changed query shows in the value.
  const ip = await waitFor(
    "the queue-worker pod to be Ready",
    async () => {
      const pods = await kubectlJson<{
        items: { status: { podIP?: string; conditions?: { type: string; status: string }[] } }[];
      }>(info, ["-n", ns, "get", "pods", "-l", "app=queue-worker"]);
      const ready = pods.items.find((p) =>
        p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      );
      return ready?.status.podIP;
    },
    120_000,
    1000,
  );
  const res = await fetch(`http://${ip}:8080/queue?depth=${String(QUEUE_DEPTH)}`, {
    method: "PUT",
  });
  assert.equal(res.status, 200);

  // prometheus-adapter with the same config, serving with the registration's certificate (signed
  // by the cluster CA the APIServices trust), then custom and external metrics pointed at it.
  const reg = existingRegistration(info);
  upstream = await startUpstreamAdapter({
    info,
    prometheusUrl: info.prometheusUrl,
    config: DEFAULT_ADAPTER_CONFIG,
    relistInterval: "5s",
    maxAge: "10m",
    extraArgs: [`--tls-cert-file=${reg.certFile}`, `--tls-private-key-file=${reg.keyFile}`],
  });
  const port = Number(new URL(upstream.url).port);
  repointed = true;
  await publishApiServices(info, { ...reg, port }, TAKEN);
  await servedOn(port, "custom and external metrics to be served by prometheus-adapter");
  assert.notEqual(port, ours.port);
});

after(async () => {
  try {
    if (repointed) {
      // Always back to our registered adapter, proven before the next file runs.
      const reg = existingRegistration(info);
      await publishApiServices(info, reg, TAKEN);
      await servedOn(reg.port, "custom and external metrics to be served by ours again");
    }
  } finally {
    await upstream?.stop();
    if (ns !== "") await kubectl(info, ["delete", "namespace", ns, "--wait=false"]);
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  }
});

describe("compare against prometheus-adapter v0.12.0 registered in the cluster", () => {
  test("the same config: every HPA's metrics are the same, exit 0", T, async (t: TestContext) => {
    let last: Awaited<ReturnType<typeof compareJson>> | undefined;
    const { run, report } = await waitFor(
      "every metric to have a value on both sides, and both to list the same metrics",
      async () => {
        // Other test files leave series behind that go stale while this runs: upstream relists
        // every 5 s and ours lists once per run, so a list can differ for a moment.
        const r = await compareJson(DEFAULT_ADAPTER_CONFIG);
        last = r;
        const sameLists = r.report.discovery.every(
          (d) => d.onlyOurs.length + d.onlyTheirs.length === 0,
        );
        // The depth PUT in before() shows once Prometheus has scraped it (a CI run once compared
        // a depth below it on both sides: a read before the scrape, or across a target change).
        const depth = queueMetric(r.report)?.theirs.valueMilli ?? 0;
        return allValued(r.report) && sameLists && depth >= QUEUE_FLOOR_MILLI ? r : undefined;
      },
      180_000,
      3000,
    ).catch((e: unknown) => {
      // The assertions below say what still differs.
      if (last === undefined) throw e;
      return last;
    });
    assert.deepEqual(
      report.hpas.map((h) => h.name),
      ["demo-app", "mem", "nginx", "queue-worker", "web"],
    );
    assert.deepEqual(
      report.hpas.flatMap((h) => h.metrics.map((m) => `${h.name} ${m.type} ${m.status}`)),
      [
        "demo-app Pods same",
        "mem Resource same",
        "nginx Pods same",
        "queue-worker External same",
        "web Object same",
      ],
      run.stdout,
    );
    for (const h of report.hpas) {
      assert.equal(h.replicas.ours, h.replicas.theirs, `${h.name}: ${JSON.stringify(h)}`);
      assert.ok(h.replicas.ours !== undefined && h.replicas.ours >= 1);
    }
    const queue = queueMetric(report);
    assert.ok(
      queue?.theirs.valueMilli !== undefined && queue.theirs.valueMilli >= QUEUE_FLOOR_MILLI,
      JSON.stringify(queue),
    );
    assert.ok(
      report.discovery.every((d) => d.onlyOurs.length + d.onlyTheirs.length === 0),
      JSON.stringify(report.discovery),
    );
    assert.match(report.discovery[0]?.servedBy ?? "", /custom-metrics\/k8s-custom-metrics/);
    assert.equal(report.match, true);
    assert.equal(run.code, 0, run.stderr);

    // The human table says the same.
    const human = await compare(DEFAULT_ADAPTER_CONFIG);
    assert.equal(human.code, 0, human.stdout + human.stderr);
    t.diagnostic(human.stdout);
    assert.match(human.stdout, /Result: match/);
    assert.match(human.stdout, /queue_depth/);
  });

  test(
    "another metricsQuery and a missing rule: exactly those HPAs differ, exit 1",
    T,
    async (t: TestContext) => {
      const config = parse(await readFile(DEFAULT_ADAPTER_CONFIG, "utf8")) as {
        rules: { seriesQuery: string }[];
        externalRules: { metricsQuery: string }[];
      };
      // One rule missing: http_requests_per_second (the demo-app's Pods and web's Object metric).
      config.rules = config.rules.filter((r) => !r.seriesQuery.includes("http_requests_total"));
      // Another query for queue_depth: twice the depth.
      const ext = config.externalRules[0];
      assert.ok(ext);
      ext.metricsQuery = "2 * sum(<<.Series>>{<<.LabelMatchers>>})";
      const file = join(dir, "changed.yaml");
      await writeFile(file, stringify(config));

      const { run, report } = await compareJson(file);
      assert.equal(run.code, 1, run.stderr);
      assert.equal(report.match, false);
      const status = Object.fromEntries(
        report.hpas.map((h) => [
          h.name,
          `${h.status}: ${h.metrics.map((m) => m.status).join(",")}`,
        ]),
      );
      assert.deepEqual(status, {
        "demo-app": "different: missing-ours",
        mem: "same: same",
        nginx: "same: same",
        "queue-worker": "different: different",
        web: "different: missing-ours",
      });
      const queue = report.hpas.find((h) => h.name === "queue-worker")?.metrics[0];
      assert.ok(queue?.ours.valueMilli !== undefined && queue.theirs.valueMilli !== undefined);
      // As the HPA reports an AverageValue: ceil(sum / replicas), so twice within the rounding.
      assert.ok(Math.abs(queue.ours.valueMilli - 2 * queue.theirs.valueMilli) <= 2, queue.detail);
      assert.match(queue.detail ?? "", /ours .*, theirs /);
      const custom = report.discovery.find((d) => d.group === "custom.metrics.k8s.io");
      assert.ok(
        custom?.onlyTheirs.includes("pods/http_requests_per_second"),
        JSON.stringify(custom),
      );
      assert.deepEqual(custom?.onlyOurs, []);

      const human = await compare(file);
      t.diagnostic(human.stdout);
      assert.equal(human.code, 1);
      assert.match(human.stdout, /Result: DIFFERENT: .*demo-app.*queue-worker.*web/);
      assert.match(human.stdout, /only the cluster lists .*pods\/http_requests_per_second/);
    },
  );

  test(
    "a Resource HPA: our kubelet source and the cluster's agree within the tolerance",
    T,
    async () => {
      const { report } = await compareJson(DEFAULT_ADAPTER_CONFIG);
      const mem = report.hpas.find((h) => h.name === "mem");
      const m = mem?.metrics[0];
      assert.equal(m?.type, "Resource");
      assert.equal(m.status, "same", JSON.stringify(m));
      const ours = m.ours.valueMilli ?? 0;
      const theirs = m.theirs.valueMilli ?? 0;
      // A demo-app process: some MiB of resident memory, both sides.
      assert.ok(theirs > 1024 * 1024 * 1000, String(theirs));
      assert.ok(
        Math.abs(ours - theirs) <= report.tolerance.relative * Math.max(ours, theirs),
        `${String(ours)} vs ${String(theirs)}`,
      );
      assert.deepEqual(Object.keys(m.ours.pods ?? {}), Object.keys(m.theirs.pods ?? {}));
      assert.equal(m.ours.replicas, 1);
      assert.equal(m.theirs.replicas, 1);
    },
  );

  test("usage and connection errors: exit 2 with one line", T, async () => {
    const bad = await compare(DEFAULT_ADAPTER_CONFIG, ["--tolerance=2"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    const down = await exec(process.execPath, [
      CLI,
      "compare",
      `--config=${DEFAULT_ADAPTER_CONFIG}`,
      "--prometheus-url=http://127.0.0.1:1",
      `--kubeconfig=${info.kubeconfig}`,
    ]).then(
      () => ({ code: 0, stderr: "" }),
      (e: unknown) => e as { code: number; stderr: string },
    );
    assert.equal(down.code, 2);
    assert.match(down.stderr, /^error: KCM_ERR_PROMETHEUS_UNREACHABLE: .*\n$/);
  });
});
