/**
 * @module test/playground
 * "Try your prometheus-adapter config locally" (issue #19 item 2), as a user runs it against the
 * shared local cluster: `local adapter` registers ours with a user's config, swaps the config,
 * puts prometheus-adapter v0.12.0 in its place; `local gauge` moves the External HPA of
 * examples/external; `local load` sends exactly the requests it reports; bad input changes
 * nothing. Real processes throughout: the CLI, the adapters, the aggregator, the HPA controller.
 * The adapter is given back as the other files expect it (ours with examples/adapter-config.yaml).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  DEFAULT_ADAPTER_CONFIG,
  apiServiceAvailability,
} from "../../src/harness/adapter-process.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { goBinaryPath } from "../../src/harness/go-build.ts";
import { UPSTREAM_PROGRAM } from "../../src/harness/playground.ts";
import {
  freshNamespace,
  kubectl,
  kubectlJson,
  promQuery,
  testCluster,
  waitFor,
} from "../support/cluster.ts";
import { runCli, type CliRun } from "../support/cli.ts";

const exec = promisify(execFile);

const T = { timeout: 300_000 };
/**
 * A second cluster for `local up --config`: apart from the test cluster's ports (base+80…base+444).
 * It runs no pods, so sharing the test cluster's pod network (a /16 per 1000) is harmless.
 */
const UP_BASE = Number(
  process.env["K8SCM_PLAYGROUND_TEST_PORT_BASE"] ??
    Number(process.env["K8SCM_TEST_PORT_BASE"] ?? "26000") + 500,
);
const QUEUE_WORKER = new URL("../../examples/external/queue-worker.yaml", import.meta.url).pathname;

let info: ClusterInfo;
let ns = "";
let dir = "";

const cli = (...args: string[]) => runCli(args, { timeoutMs: 280_000 });

/** `local … --state-dir` of the shared cluster. */
const local = (...args: string[]) => cli("local", ...args, `--state-dir=${info.stateDir}`);

function ok(r: CliRun, what: string): CliRun {
  assert.equal(r.code, 0, `${what} failed:\n${r.stderr}${r.stdout}`);
  return r;
}

/** The running adapter component's pid and command line (argv). */
async function adapterProcess(): Promise<{ pid: number; argv: string[] } | undefined> {
  const r = ok(await local("status", "-o", "json"), "local status");
  const s = JSON.parse(r.stdout) as { components: { name: string; pid: number; alive: boolean }[] };
  const a = s.components.find((c) => c.name === "adapter" && c.alive);
  if (!a) return undefined;
  const argv = readFileSync(`/proc/${String(a.pid)}/cmdline`, "utf8")
    .split("\0")
    .filter(Boolean);
  return { pid: a.pid, argv };
}

/** The metric names external.metrics.k8s.io lists through the aggregator. */
async function externalNames(): Promise<string[]> {
  const list = JSON.parse(
    await kubectl(info, ["get", "--raw", "/apis/external.metrics.k8s.io/v1beta1"]),
  ) as { resources: { name: string }[] };
  return list.resources.map((r) => r.name).sort();
}

async function metricApiServices(): Promise<Map<string, string>> {
  const all = await apiServiceAvailability(info);
  return new Map(
    [...all].filter(([n]) => n.includes("metrics.k8s.io")).map(([n, s]) => [n, s.status]),
  );
}

/** An externalRules-only config that exposes queue_depth as `as` (and, with http, a custom rule). */
function config(as: string, http = false): string {
  return [
    ...(http
      ? [
          "rules:",
          `  - seriesQuery: '{__name__="http_requests_total",namespace!="",pod!=""}'`,
          "    resources:",
          "      overrides: { namespace: { resource: namespace }, pod: { resource: pod } }",
          "    name:",
          "      matches: ^(.*)_total$",
          '      as: "${1}_per_second"',
          "    metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[30s])) by (<<.GroupBy>>)",
        ]
      : []),
    "externalRules:",
    `  - seriesQuery: '{__name__="queue_depth",namespace!=""}'`,
    "    resources:",
    "      overrides: { namespace: { resource: namespace } }",
    "    name:",
    "      matches: ^queue_depth$",
    `      as: ${as}`,
    "    metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>})",
    "",
  ].join("\n");
}

before(async () => {
  info = await testCluster();
  dir = await mkdtemp(join(tmpdir(), "kcm-playground-"));
  ns = await freshNamespace(info, "playground");
  await writeFile(join(dir, "backlog.yaml"), config("backlog"));
  await writeFile(join(dir, "pending.yaml"), config("pending_messages", true));
  // examples/external's demo-app Deployment and External HPA: a queue_depth series for the
  // configs below to find, and the HPA that local gauge moves.
  await kubectl(info, ["-n", ns, "apply", "-f", QUEUE_WORKER]);
  await waitFor(
    "Prometheus to scrape queue_depth from the queue-worker pod",
    async () =>
      (await promQuery(info, `queue_depth{namespace="${ns}"}`)).length > 0 ? true : undefined,
    120_000,
    1000,
  );
  // A flow sequence that never ends.
  await writeFile(
    join(dir, "bad.yaml"),
    "externalRules:\n  - seriesQuery: '{__name__=\"queue_depth\"}'\n    metricsQuery: x\n    name: [1\n",
  );
});

after(async () => {
  try {
    // Back to what the other test files expect: ours with the examples config, all APIServices.
    ok(
      await local("adapter", "--adapter=ours", `--config=${DEFAULT_ADAPTER_CONFIG}`),
      "restoring the registered adapter",
    );
  } finally {
    // Only there if `local up` started a cluster despite the bad config (a failed test).
    if (dir !== "") await cli("local", "down", `--state-dir=${join(dir, "other-state")}`);
    if (ns !== "") await kubectl(info, ["delete", "namespace", ns, "--wait=false"]);
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  }
});

describe("the playground: your config, behind the aggregator of a running local cluster", () => {
  test("ours with a user config: only what it names is served", T, async () => {
    const cfg = join(dir, "backlog.yaml");
    const r = ok(await local("adapter", "--adapter=ours", `--config=${cfg}`), "local adapter");
    assert.match(r.stdout, new RegExp(`^adapter: k8s-custom-metrics with ${cfg}; serves `, "m"));
    const p = await adapterProcess();
    assert.ok(p, "an adapter component runs");
    assert.ok(p.argv.includes("serve") && p.argv.includes(`--config=${cfg}`), p.argv.join(" "));
    // externalRules only: no custom.metrics.k8s.io registered; metrics.k8s.io from the kubelets.
    assert.deepEqual(Object.fromEntries(await metricApiServices()), {
      "v1beta1.external.metrics.k8s.io": "True",
      "v1beta1.metrics.k8s.io": "True",
    });
    assert.deepEqual(await externalNames(), ["backlog"]);
    const show = ok(await local("adapter", "--show"), "local adapter --show");
    assert.equal(show.stdout, r.stdout);
  });

  test(
    "bad input is a catalog error, exit 1, and leaves the running adapter alone",
    T,
    async () => {
      const before = await adapterProcess();
      const bad = await local("adapter", `--config=${join(dir, "bad.yaml")}`);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /^error: KCM_ERR_CONFIG: .*bad\.yaml:\d+:\d+: YAML syntax error/);
      const none = await local("adapter", "--adapter=none", `--config=${DEFAULT_ADAPTER_CONFIG}`);
      assert.equal(none.code, 1);
      assert.match(
        none.stderr,
        /^error: KCM_ERR_USAGE: --config goes with --adapter ours or upstream/,
      );
      const kind = await local("adapter", "--adapter=prometheus");
      assert.equal(kind.code, 1);
      assert.match(kind.stderr, /expected ours, upstream or none/);
      const gauge = await local("gauge", "no_such_gauge", "3", `--namespace=${ns}`);
      assert.equal(gauge.code, 1);
      assert.match(gauge.stderr, /^error: KCM_ERR_USAGE: gauge no_such_gauge: .* queue_depth/);
      const load = await local("load", "no-such-deployment", `--namespace=${ns}`, "--duration=2");
      assert.equal(load.code, 1);
      assert.match(load.stderr, /^error: KCM_ERR_USAGE: no Deployment .*\/no-such-deployment/m);
      assert.deepEqual(await adapterProcess(), before, "the adapter was not touched");
      assert.deepEqual(await externalNames(), ["backlog"]);

      // `local up` checks the config before it starts anything.
      const other = join(dir, "other-state");
      const up = await cli(
        "local",
        "up",
        `--state-dir=${other}`,
        "--port-base=28900",
        `--config=${join(dir, "bad.yaml")}`,
      );
      assert.equal(up.code, 1);
      assert.match(up.stderr, /^error: KCM_ERR_CONFIG: .*bad\.yaml:\d+:\d+: YAML syntax error/m);
      assert.equal(existsSync(join(other, "cluster.json")), false, "no cluster was started");
      const upNone = await cli(
        "local",
        "up",
        `--state-dir=${other}`,
        "--adapter=none",
        `--config=${DEFAULT_ADAPTER_CONFIG}`,
      );
      assert.equal(upNone.code, 1);
      assert.match(upNone.stderr, /^error: KCM_ERR_USAGE: /);
    },
  );

  test("a new config swaps the adapter in place", T, async () => {
    const first = await adapterProcess();
    const cfg = join(dir, "pending.yaml");
    ok(await local("adapter", `--config=${cfg}`), "local adapter --config");
    const p = await adapterProcess();
    assert.ok(p, "an adapter component runs");
    assert.ok(p.argv.includes(`--config=${cfg}`), p.argv.join(" "));
    assert.notEqual(p.pid, first?.pid);
    assert.deepEqual(await externalNames(), ["pending_messages"]);
    // It has rules now: custom.metrics.k8s.io is registered, and serves them.
    const services = await metricApiServices();
    assert.equal(services.get("v1beta2.custom.metrics.k8s.io"), "True");
    assert.equal(services.get("v1beta1.custom.metrics.k8s.io"), "True");
  });

  test("prometheus-adapter v0.12.0 in its place, with the same config", T, async () => {
    const r = ok(await local("adapter", "--adapter=upstream"), "local adapter --adapter=upstream");
    assert.match(r.stdout, /^adapter: prometheus-adapter v0\.12\.0 with .*pending\.yaml; serves /m);
    const p = await adapterProcess();
    assert.equal(p?.argv[0], goBinaryPath(UPSTREAM_PROGRAM), p?.argv.join(" "));
    // No resourceRules: upstream serves no metrics.k8s.io, so it is not registered.
    assert.deepEqual(Object.fromEntries(await metricApiServices()), {
      "v1beta1.custom.metrics.k8s.io": "True",
      "v1beta1.external.metrics.k8s.io": "True",
      "v1beta2.custom.metrics.k8s.io": "True",
    });
    assert.deepEqual(await externalNames(), ["pending_messages"]);
    const status = ok(await local("status"), "local status");
    assert.match(status.stdout, /^adapter: prometheus-adapter v0\.12\.0 with /m);
  });

  test("local gauge moves the External HPA; local load sends what it says", T, async () => {
    ok(
      await local("adapter", "--adapter=ours", `--config=${DEFAULT_ADAPTER_CONFIG}`),
      "local adapter back to ours",
    );
    await waitFor(
      "a Ready queue-worker pod",
      async () => {
        const r = await local("gauge", "queue_depth", "0", `--namespace=${ns}`);
        return r.code === 0 ? true : undefined;
      },
      120_000,
      1000,
    );
    const set = ok(await local("gauge", "queue_depth", "25", `--namespace=${ns}`), "local gauge");
    assert.match(set.stdout, new RegExp(`^${ns}/queue-worker-\\S+ queue_depth=25$`, "m"));

    type Hpa = { status: { currentReplicas?: number; desiredReplicas?: number } };
    // 25 against 10 per pod: 3 replicas (its max).
    await waitFor(
      "the External HPA to scale queue-worker to 3",
      async () => {
        const h = await kubectlJson<Hpa>(info, ["-n", ns, "get", "hpa", "queue-worker"]);
        return h.status.currentReplicas === 3 ? true : undefined;
      },
      180_000,
      1000,
    );
    const watch = ok(
      await local("watch", `--namespace=${ns}`, "--exit-after=1", "--interval=1"),
      "local watch",
    );
    assert.match(
      watch.stdout,
      new RegExp(
        `HPA ${ns}/queue-worker → Deployment/queue-worker: queue_depth [\\d.]+ / target 10; replicas 3 `,
      ),
    );
    assert.match(watch.stdout, /^ {2}replicas [▁▂▃▄▅▆▇█]+$/m);
    assert.match(watch.stdout, /^adapter: k8s-custom-metrics with /m);

    // Every GET / the pods count is one `local load` reports, and it stops by itself.
    const served = async () => {
      const pods = await kubectlJson<{ items: { status: { podIP?: string } }[] }>(info, [
        "-n",
        ns,
        "get",
        "pods",
        "-l",
        "app=queue-worker",
      ]);
      let sum = 0;
      for (const p of pods.items) {
        const text = await (await fetch(`http://${p.status.podIP ?? ""}:8080/metrics`)).text();
        const m = /^http_requests_total\{method="GET",code="200"\} (\d+)/m.exec(text);
        sum += Number(m?.[1] ?? 0);
      }
      return sum;
    };
    const before = await served();
    const t0 = Date.now();
    const load = ok(
      await local("load", "queue-worker", `--namespace=${ns}`, "--rate=20", "--duration=3"),
      "local load",
    );
    const took = Date.now() - t0;
    const m = /^sent (\d+) requests, 0 failed$/m.exec(load.stdout);
    assert.ok(m, load.stdout + load.stderr);
    const sent = Number(m[1]);
    assert.ok(sent >= 45 && sent <= 65, `sent ${String(sent)} in 3 s at 20/s`);
    assert.ok(took < 15_000, `took ${String(took)} ms`);
    assert.equal((await served()) - before, sent);

    ok(await local("gauge", "queue_depth", "0", `--namespace=${ns}`), "local gauge 0");
    // 0 against 10 per pod: back to 1 after the tests' 20 s downscale stabilization.
    await waitFor(
      "the External HPA to scale queue-worker back to 1",
      async () => {
        const h = await kubectlJson<Hpa>(info, ["-n", ns, "get", "hpa", "queue-worker"]);
        return h.status.desiredReplicas === 1 ? true : undefined;
      },
      180_000,
      1000,
    );
  });

  test("--adapter none unregisters it", T, async () => {
    const r = ok(await local("adapter", "--adapter=none"), "local adapter --adapter=none");
    assert.equal(r.stdout, "adapter: none registered\n");
    assert.equal(await adapterProcess(), undefined);
    assert.deepEqual([...(await metricApiServices()).keys()], []);
  });

  test(
    "local up --config starts a cluster with ours registered, local down stops it",
    T,
    async () => {
      const state = join(dir, "up-state");
      const cfg = join(dir, "backlog.yaml");
      try {
        const up = ok(
          await cli(
            "local",
            "up",
            `--state-dir=${state}`,
            `--port-base=${String(UP_BASE)}`,
            `--config=${cfg}`,
          ),
          "local up --config",
        );
        assert.match(up.stdout, /^export KUBECONFIG=/m);
        assert.match(
          up.stderr,
          new RegExp(`^adapter: k8s-custom-metrics with ${cfg}; serves `, "m"),
        );
        const show = ok(await cli("local", "adapter", "--show", `--state-dir=${state}`), "--show");
        assert.match(show.stdout, new RegExp(`^adapter: k8s-custom-metrics with ${cfg}; `));
        const kubeconfig = join(state, "admin.kubeconfig");
        const { stdout } = await exec("kubectl", [
          `--kubeconfig=${kubeconfig}`,
          "get",
          "apiservices",
          "-o",
          "json",
        ]);
        const avail = Object.fromEntries(
          (
            JSON.parse(stdout) as {
              items: {
                metadata: { name: string };
                status?: { conditions?: { type: string; status: string }[] };
              }[];
            }
          ).items
            .filter((a) => a.metadata.name.includes("metrics.k8s.io"))
            .map((a) => [
              a.metadata.name,
              a.status?.conditions?.find((c) => c.type === "Available")?.status,
            ]),
        );
        assert.deepEqual(avail, {
          "v1beta1.external.metrics.k8s.io": "True",
          "v1beta1.metrics.k8s.io": "True",
        });
      } finally {
        ok(await cli("local", "down", `--state-dir=${state}`), "local down");
      }
      const status = await cli("local", "status", `--state-dir=${state}`);
      assert.equal(status.code, 3, status.stdout);
    },
  );
});
