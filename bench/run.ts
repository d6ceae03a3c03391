/**
 * @module bench/run
 * `npm run bench`: starts a local cluster on its own ports, runs the benchmarks side by side with
 * prometheus-adapter v0.12.0, writes bench/results.json and bench/RESULTS.md, and stops the cluster.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { KUBE_VERSION } from "../src/harness/kube-binaries.ts";
import { benchDiscovery, type DiscoveryResult } from "./discovery.ts";

const sizes = (process.env["BENCH_SIZES"] ?? "10000,100000,1000000").split(",").map(Number);
const stateDir = mkdtempSync(join(tmpdir(), "kcm-bench-cluster-"));
const cli = (args: string[]) =>
  execFileSync(process.execPath, ["bin/k8s-custom-metrics.js", ...args], {
    stdio: ["ignore", "ignore", "inherit"],
  });

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
      `| ${n.toLocaleString("en")} | ${o.seconds.toFixed(2)} s | ${u.seconds.toFixed(2)} s | ${(o.seconds / u.seconds).toFixed(3)} | ${o.peakRssMb.toFixed(0)} MB | ${u.peakRssMb.toFixed(0)} MB | ${(o.peakRssMb / u.peakRssMb).toFixed(2)} | ${String(o.metrics)} / ${String(u.metrics)} |`,
    );
  }
  return rows.join("\n");
}

// Measure the compiled adapter, as deployed; tsx's on-the-fly compilation would dominate.
execFileSync("npx", ["tsc", "-p", "tsconfig.build.json", "--outDir", "bench/.dist"], {
  stdio: "inherit",
});
cli(["local", "up", `--state-dir=${stateDir}`, "--port-base=12000"]);
try {
  const discovery = await benchDiscovery(stateDir, join(stateDir, "admin.kubeconfig"), sizes);
  const machine = `${String(cpus().length)} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const date = new Date().toISOString();
  writeFileSync(
    "bench/results.json",
    JSON.stringify(
      {
        date,
        machine,
        kubernetes: KUBE_VERSION,
        upstream: "prometheus-adapter v0.12.0",
        discovery,
      },
      null,
      2,
    ) + "\n",
  );
  const md = `# Benchmark results\n\n${date}, ${machine}, Node.js ${process.version}, Kubernetes ${KUBE_VERSION}, k8s-custom-metrics v0.1.0 vs prometheus-adapter v0.12.0, Prometheus ${execFileSync("prometheus", ["--version"], { encoding: "utf8" }).split("\n")[0] ?? ""}.\n\n## Discovery (default rules, ${String(300)} metric names)\n\n${table(discovery)}\n`;
  writeFileSync("bench/RESULTS.md", md);
  process.stdout.write(md);
} finally {
  cli(["local", "down", `--state-dir=${stateDir}`]);
}
