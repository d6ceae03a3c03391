/**
 * @module bench/discovery
 * Discovery side by side: a real Prometheus backfilled with N series over a few hundred metric
 * names, our adapter and prometheus-adapter v0.12.0 with the same (default) rules against it and
 * the same local API server. For each: time from process start to a complete metric list, the
 * number of metrics listed, and peak RSS (VmHWM). Sizes: BENCH_SIZES (default 0,10000,100000,1000000).
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { defaultConfigYaml } from "../src/config/defaults.ts";
import { readClusterInfo } from "../src/harness/cluster.ts";
import { startPrometheus, freePort } from "../test/support/prometheus.ts";
import { startUpstreamAdapter } from "../test/support/upstream-adapter.ts";
import type { Scenario } from "./scenario.ts";
import { ourServe } from "./support/deployed.ts";

const NAMES = 300;
/** Starts of each adapter per size (BENCH_DISCOVERY_RUNS): one start's time is noisy. */
const RUNS = Math.max(1, Number(process.env["BENCH_DISCOVERY_RUNS"] ?? "3"));

/** One row from several runs: the median time, every run's time, the highest peak RSS. */
function summary(runs: readonly DiscoveryResult[]): DiscoveryResult {
  const times = runs.map((r) => r.seconds);
  const sorted = [...times].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] ?? Number.NaN)
      : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
  const first = runs[0];
  if (!first) throw new Error("no runs");
  return {
    ...first,
    seconds: median,
    runs: times,
    peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
  };
}

/** `0.88 s (0.84, 0.88, 1.15)`: the median, then each run when there were several. */
function seconds(r: DiscoveryResult): string {
  const each =
    r.runs && r.runs.length > 1 ? ` (${r.runs.map((x) => x.toFixed(2)).join(", ")})` : "";
  return `${r.seconds.toFixed(2)} s${each}`;
}

/** OpenMetrics text: N series spread over NAMES metric names, labelled like cAdvisor and apps. */
export function seriesText(n: number, at: number): string {
  // 0 series: time to ready is start-up alone (issue #17 item 3).
  const perName = n === 0 ? 0 : Math.max(1, Math.floor(n / NAMES));
  const lines: string[] = [];
  for (let m = 0; m < NAMES; m++) {
    const name =
      m % 3 === 0
        ? `container_bench_${String(m)}_bytes`
        : m % 3 === 1
          ? `app_bench_${String(m)}_total`
          : `app_bench_${String(m)}`;
    for (let i = 0; i < perName; i++) {
      const ns = `ns-${String(i % 50)}`;
      const pod = `pod-${String(i)}`;
      const labels =
        m % 3 === 0
          ? `namespace="${ns}",pod="${pod}",container="c"`
          : `namespace="${ns}",pod="${pod}",service="svc-${String(i % 20)}"`;
      lines.push(`${name}{${labels}} ${String(i % 97)} ${String(at)}`);
    }
  }
  lines.push("# EOF");
  return lines.join("\n") + "\n";
}

function vmHwmKb(pid: number): number {
  try {
    return Number(
      /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${String(pid)}/status`, "utf8"))?.[1] ?? 0,
    );
  } catch {
    return 0;
  }
}

function pidOf(pattern: string): number {
  return Number(execFileSync("pgrep", ["-n", "-f", pattern], { encoding: "utf8" }).trim());
}

export interface DiscoveryResult {
  readonly series: number;
  readonly implementation: "ours" | "upstream";
  /** The median of the runs' times (one run: its time). */
  readonly seconds: number;
  /** Every run's time, in order. */
  readonly runs?: readonly number[];
  readonly metrics: number;
  readonly peakRssMb: number;
}

async function countMetrics(get: () => Promise<{ status: number; text: string }>): Promise<number> {
  const r = await get();
  if (r.status !== 200) return -1;
  return (JSON.parse(r.text) as { resources: unknown[] }).resources.length;
}

async function runOurs(
  url: string,
  kubeconfig: string,
  config: string,
  n: number,
): Promise<DiscoveryResult> {
  const port = await freePort();
  const t0 = performance.now();
  // As the image starts it (support/deployed.ts), from what bench/run.ts builds.
  const serve = ourServe([
    `--config=${config}`,
    `--prometheus-url=${url}`,
    `--lister-kubeconfig=${kubeconfig}`,
    `--insecure-http-port=${String(port)}`,
    "--metrics-relist-interval=1h",
    "--metrics-max-age=2h",
  ]);
  const child = spawn(serve.command, serve.args, { stdio: "ignore", env: serve.env });
  const get = async () => {
    const res = await fetch(`http://127.0.0.1:${String(port)}/apis/custom.metrics.k8s.io/v1beta1`);
    return { status: res.status, text: await res.text() };
  };
  try {
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${String(port)}/readyz`)
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ready) break;
      if (performance.now() - t0 > 600_000) throw new Error("our adapter did not become ready");
      await sleep(20);
    }
    const seconds = (performance.now() - t0) / 1000;
    return {
      series: n,
      implementation: "ours",
      seconds,
      metrics: await countMetrics(get),
      peakRssMb: vmHwmKb(child.pid ?? 0) / 1024,
    };
  } finally {
    child.kill("SIGTERM");
  }
}

async function runUpstream(
  url: string,
  stateDir: string,
  config: string,
  n: number,
  expected: number,
): Promise<DiscoveryResult> {
  const info = await readClusterInfo(stateDir);
  if (!info) throw new Error("no cluster");
  const t0 = performance.now();
  const up = await startUpstreamAdapter({
    info,
    prometheusUrl: url,
    config,
    relistInterval: "1h",
    maxAge: "2h",
  });
  try {
    const pid = pidOf("prometheus-adapter/v0.12.0/adapter");
    let metrics = 0;
    for (;;) {
      metrics = await countMetrics(() => up.get("/apis/custom.metrics.k8s.io/v1beta1")).catch(
        () => 0,
      );
      if (metrics >= expected) break;
      if (performance.now() - t0 > 900_000) break;
      await sleep(20);
    }
    const seconds = (performance.now() - t0) / 1000;
    return {
      series: n,
      implementation: "upstream",
      seconds,
      metrics,
      peakRssMb: vmHwmKb(pid) / 1024,
    };
  } finally {
    await up.stop();
  }
}

async function benchDiscovery(
  stateDir: string,
  kubeconfig: string,
  sizes: readonly number[],
): Promise<DiscoveryResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "kcm-bench-"));
  const config = join(dir, "config.yaml");
  writeFileSync(config, defaultConfigYaml());
  const out: DiscoveryResult[] = [];
  for (const n of sizes) {
    process.stderr.write(`discovery: backfilling ${String(n)} series…\n`);
    const prom = await startPrometheus({
      openMetrics: seriesText(n, Math.floor(Date.now() / 1000) - 600),
    });
    try {
      const ours: DiscoveryResult[] = [];
      const upstream: DiscoveryResult[] = [];
      // Alternately, so a moment of load elsewhere on the machine does not fall on one side only.
      for (let k = 0; k < RUNS; k++) {
        const o = await runOurs(prom.url, kubeconfig, config, n);
        process.stderr.write(
          `  ours: ${o.seconds.toFixed(2)} s, ${String(o.metrics)} metrics, ${o.peakRssMb.toFixed(0)} MB\n`,
        );
        const u = await runUpstream(prom.url, stateDir, config, n, o.metrics);
        process.stderr.write(
          `  upstream: ${u.seconds.toFixed(2)} s, ${String(u.metrics)} metrics, ${u.peakRssMb.toFixed(0)} MB\n`,
        );
        ours.push(o);
        upstream.push(u);
      }
      out.push(summary(ours), summary(upstream));
    } finally {
      await prom.stop();
    }
  }
  return out;
}

function table(results: readonly DiscoveryResult[]): string {
  const rows = [
    "| series | ours: time to metric list | upstream | ratio (ours/upstream) | ours: peak RSS | upstream | ratio | metrics (ours / upstream) |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const n of [...new Set(results.map((r) => r.series))]) {
    const o = results.find((r) => r.series === n && r.implementation === "ours");
    const u = results.find((r) => r.series === n && r.implementation === "upstream");
    if (!o || !u) continue;
    rows.push(
      `| ${n.toLocaleString("en")} | ${seconds(o)} | ${seconds(u)} | ${(o.seconds / u.seconds).toFixed(3)} | ${o.peakRssMb.toFixed(0)} MB | ${u.peakRssMb.toFixed(0)} MB | ${(o.peakRssMb / u.peakRssMb).toFixed(2)} | ${String(o.metrics)} / ${String(u.metrics)} |`,
    );
  }
  return rows.join("\n");
}

/** Issue #17's goal: at 1,000,000 series, at least 10× faster than upstream to a full list. */
function goal(results: readonly DiscoveryResult[]): string {
  const at = (impl: string) =>
    results.find((r) => r.series === 1_000_000 && r.implementation === impl);
  const o = at("ours");
  const u = at("upstream");
  if (!o || !u) return "";
  const x = u.seconds / o.seconds;
  return `\nGoal: at 1,000,000 series, at least 10× faster than upstream: ${x >= 10 ? "met" : "missed"} (${x.toFixed(1)}×, median ${o.seconds.toFixed(2)} s against ${u.seconds.toFixed(2)} s).\n`;
}

export const discovery: Scenario = {
  name: "discovery",
  async run(ctx) {
    const sizes = (process.env["BENCH_SIZES"] ?? "0,10000,100000,1000000").split(",").map(Number);
    const results = await benchDiscovery(ctx.stateDir, ctx.kubeconfig, sizes);
    return {
      json: results,
      markdown: `## Discovery (default rules, ${String(NAMES)} metric names)\n\nTime from process start to a complete metric list: the median of ${String(RUNS)} starts of each adapter, taken alternately (each run in brackets); peak RSS (VmHWM): the highest of them.\n\n${table(results)}\n${goal(results)}`,
    };
  },
};
