/**
 * @module test/e2e-resource-prometheus
 * metrics.k8s.io from Prometheus (`resourceRules`) through the real aggregator: a second adapter
 * with examples/resource/resource-rules.yaml (over the cAdvisor-style series the local Prometheus
 * scrapes from the node agent) takes over `v1beta1.metrics.k8s.io` for this file, and `kubectl top
 * pods -A` / `kubectl top nodes` must print what /proc says about the pods' processes and the
 * node. Afterwards the APIService goes back to the registered (kubelet-source) adapter, which the
 * other test files expect.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { startAdapter } from "../../src/harness/adapter-process.ts";
import {
  API_SERVICES,
  existingRegistration,
  publishApiServices,
} from "../../src/harness/adapter-registration.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { statePaths } from "../../src/harness/paths.ts";
import { Supervisor } from "../../src/harness/supervisor.ts";
import { freshNamespace, kubectl, testCluster, waitFor } from "../support/cluster.ts";
import { runningPods } from "../support/objects.ts";
import { freePort } from "../support/prometheus.ts";
import {
  nodeBusyCpuSeconds,
  nodeUsedBytes,
  runningPodPids,
  treeCpuSeconds,
  treeRssBytes,
  within,
} from "../support/proc-usage.ts";
import { ensureRegisteredAdapter } from "../support/registered-adapter.ts";
import { configWithResourceRules } from "../support/resource-rules-config.ts";

const T = { timeout: 240_000 };
/** The supervised component name of the second adapter (its log: `<state>/logs/<name>.log`). */
const NAME = "adapter-prometheus-resource";
const METRICS_API = API_SERVICES.filter((a) => a.group === "metrics.k8s.io");
const MK = "/apis/metrics.k8s.io/v1beta1";
/** resource-rules.yaml's window: how an answer from this adapter is told from the kubelet's. */
const PROMETHEUS_WINDOW = "30s";
/** How long CPU is measured: the rules' rate window. */
const CPU_WINDOW_MS = 30_000;
const MI = 1024 * 1024;

/** A pod that burns CPU in bursts, so its usage is well above zero and below a core. */
const burner = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "burner", labels: { app: "burner" } },
  spec: {
    containers: [
      {
        name: "burner",
        image: "busybox:1.36",
        command: [
          "sh",
          "-c",
          "while :; do i=0; while [ $i -lt 50000 ]; do i=$((i+1)); done; sleep 0.3; done",
        ],
      },
    ],
  },
};

let info: ClusterInfo;
let ns: string | undefined;
let webPids: Map<string, number>;
let burnerPid: number;
let started = false;

/** The window of what metrics.k8s.io answers for the node, through the aggregator. */
async function servedWindow(path: string): Promise<string | undefined> {
  const body = JSON.parse(await kubectl(info, ["get", "--raw", `${MK}${path}`])) as {
    items: { window: string }[];
  };
  return body.items[0]?.window;
}

/** `kubectl top …` rows, split into fields. */
async function top(args: string[]): Promise<string[][]> {
  const out = await kubectl(info, ["top", ...args, "--no-headers"]);
  return out
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.trim().split(/\s+/));
}

function millicores(v: string | undefined): number {
  const m = /^(\d+)m$/.exec(v ?? "");
  assert.ok(m, `not millicores: ${String(v)}`);
  return Number(m[1]);
}

function mebibytes(v: string | undefined): number {
  const m = /^(\d+)Mi$/.exec(v ?? "");
  assert.ok(m, `not Mi: ${String(v)}`);
  return Number(m[1]);
}

before(async () => {
  info = await testCluster();
  // The registration to restore afterwards, and the files the second adapter shares.
  await ensureRegisteredAdapter(info);
  ns = await freshNamespace(info, "top-prom");
  await kubectl(
    info,
    ["-n", ns, "apply", "-f", "-"],
    readFileSync(new URL("../../examples/resource/nginx.yaml", import.meta.url), "utf8"),
  );
  await kubectl(info, ["-n", ns, "apply", "-f", "-"], JSON.stringify(burner));
  webPids = await runningPodPids(info, ns, "app=web", 2);
  const [pid] = (await runningPodPids(info, ns, "app=burner", 1)).values();
  assert.ok(pid !== undefined);
  burnerPid = pid;
  started = true;
  await startAdapter(info, {
    name: NAME,
    port: await freePort(),
    config: configWithResourceRules(),
    resourceMetricsSource: "prometheus",
    apiServices: METRICS_API,
    // Only metrics.k8s.io is routed here.
    extraArgs: ["--disable-custom-metrics", "--disable-external-metrics"],
  });
  await waitFor(
    "the aggregator to route metrics.k8s.io to the Prometheus-source adapter",
    async () => ((await servedWindow("/nodes")) === PROMETHEUS_WINDOW ? true : undefined),
    60_000,
    1000,
  );
});

after(async () => {
  try {
    if (started) {
      // Back to the registered adapter (kubelet source), and proven back before going on.
      await publishApiServices(info, existingRegistration(info), METRICS_API);
      await waitFor(
        "metrics.k8s.io to be served by the kubelet-source adapter again",
        async () => {
          const w = await servedWindow("/nodes");
          return w !== undefined && w !== PROMETHEUS_WINDOW ? true : undefined;
        },
        60_000,
        1000,
      );
    }
  } finally {
    const p = statePaths(info.stateDir);
    await new Supervisor(p.logs, p.run).stop(NAME);
    if (ns !== undefined) await kubectl(info, ["delete", "namespace", ns, "--wait=false"]);
  }
});

describe("kubectl top through the aggregator, metrics.k8s.io from Prometheus (resourceRules)", () => {
  test("kubectl top pods -A prints the Running pods' usage, as /proc measures it", T, async () => {
    const namespace = ns ?? "";
    // The three pods of this file, served from Prometheus (the window tells the source).
    await waitFor(
      "PodMetrics of the three pods from Prometheus",
      async () => {
        const body = JSON.parse(
          await kubectl(info, ["get", "--raw", `${MK}/namespaces/${namespace}/pods`]),
        ) as { items: { metadata: { name: string }; window: string; containers: unknown[] }[] };
        return body.items.length === 3 &&
          body.items.every((i) => i.window === PROMETHEUS_WINDOW && i.containers.length === 1)
          ? true
          : undefined;
      },
      120_000,
      2000,
    );

    // The same 30 s that the rules' rate covers when kubectl asks.
    const cpu0 = treeCpuSeconds(burnerPid);
    const t0 = Date.now();
    await sleep(CPU_WINDOW_MS);
    const rows = await top(["pods", "-A"]);
    const burnerCores = (treeCpuSeconds(burnerPid) - cpu0) / ((Date.now() - t0) / 1000);

    // Every row is a Running pod (the source serves only those).
    const running = await runningPods(info);
    for (const [podNs, name] of rows) {
      assert.ok(running.has(`${podNs ?? ""}/${name ?? ""}`), `${String(podNs)}/${String(name)}`);
    }

    const mine = new Map(
      rows
        .filter(([podNs]) => podNs === namespace)
        .map(([, name, cpu, mem]) => [name, { cpu, mem }]),
    );
    assert.deepEqual([...mine.keys()].sort(), ["burner", ...[...webPids.keys()].sort()]);
    for (const [name, pid] of webPids) {
      const u = mine.get(name);
      // Idle nginx: well under a core; its master and workers' resident memory.
      assert.ok(millicores(u?.cpu) < 500, u?.cpu);
      within(mebibytes(u?.mem), treeRssBytes(pid) / MI, `${name} memory (Mi)`);
    }
    const b = mine.get("burner");
    // kubectl prints whole millicores and Mi: a floor of 1 keeps the band meaningful.
    within(millicores(b?.cpu), Math.max(burnerCores * 1000, 1), "burner CPU (m)");
    // A shell whose `sleep` child comes and goes (about 1.6 or 3.3 MiB): no tighter than this.
    const burnerMi = mebibytes(b?.mem);
    assert.ok(burnerMi >= 1 && burnerMi <= (2 * treeRssBytes(burnerPid)) / MI, b?.mem);
  });

  test("kubectl top nodes prints the node's usage, as /proc measures it", T, async () => {
    const cpu0 = nodeBusyCpuSeconds();
    const t0 = Date.now();
    await sleep(CPU_WINDOW_MS);
    const rows = await top(["nodes"]);
    const nodeCores = (nodeBusyCpuSeconds() - cpu0) / ((Date.now() - t0) / 1000);
    const used = nodeUsedBytes();
    assert.equal(await servedWindow("/nodes"), PROMETHEUS_WINDOW);

    assert.equal(rows.length, 1, JSON.stringify(rows));
    const [name, cpu, cpuPct, mem, memPct] = rows[0] ?? [];
    assert.equal(name, info.nodeName);
    const m = millicores(cpu);
    assert.ok(m <= cpus().length * 1000 * 1.1, cpu);
    within(m, Math.max(nodeCores * 1000, 1), "node CPU (m)");
    assert.match(cpuPct ?? "", /^\d+%$/);
    within(mebibytes(mem), used / MI, "node memory (Mi)");
    assert.match(memPct ?? "", /^\d+%$/);
  });
});
