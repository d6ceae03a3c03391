/**
 * @module test/chaos/main
 * `npm run chaos`: the fault suite's full form. Starts a local cluster on its own ports
 * (CHAOS_PORT_BASE, default 13000; or reuses the one in CHAOS_STATE_DIR), runs every fault with a
 * 2-minute Prometheus outage, prints the fault table, replaces the "Fault suite" section of
 * bench/RESULTS.md with it (and the run's date), and stops the cluster it started.
 * CHAOS_CASES=a,b runs only those cases (and then leaves bench/RESULTS.md alone).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { readClusterInfo } from "../../src/harness/cluster.ts";
import { CASE_NAMES, faultTable, RECOVERY_GOAL_MS, RELIST_MS, runChaos } from "./suite.ts";

const BEGIN = "<!-- fault-suite:begin (npm run chaos; test/chaos/main.ts) -->";
const END = "<!-- fault-suite:end -->";
const cli = (args: string[]) =>
  execFileSync(process.execPath, ["bin/k8s-custom-metrics.js", ...args], {
    stdio: ["ignore", "ignore", "inherit"],
  });

const reuse = process.env["CHAOS_STATE_DIR"];
const stateDir = reuse ?? mkdtempSync(join(tmpdir(), "kcm-chaos-cluster-"));
const only = process.env["CHAOS_CASES"]?.split(",").filter((x) => x !== "");
const unknown = only?.filter((n) => !CASE_NAMES.includes(n)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(
    `chaos: unknown case ${unknown.join(", ")}; known: ${CASE_NAMES.join(", ")}\n`,
  );
  process.exit(2);
}
if (reuse === undefined) {
  process.stderr.write(`chaos: starting a local cluster in ${stateDir}\n`);
  cli([
    "local",
    "up",
    `--state-dir=${stateDir}`,
    `--port-base=${process.env["CHAOS_PORT_BASE"] ?? "13000"}`,
    "--hpa-sync-period=15",
    "--scrape-interval=5",
  ]);
}
let status = 0;
try {
  const info = await readClusterInfo(stateDir);
  if (!info) throw new Error(`no local cluster in ${stateDir}`);
  const date = new Date().toISOString();
  const results = await runChaos({
    info,
    form: "full",
    log: (line) => process.stderr.write(`chaos: ${line}\n`),
    ...(only === undefined ? {} : { only }),
  });
  const table = faultTable(results);
  process.stdout.write(`${table}\n`);
  const machine = `${String(cpus().length)} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const section = [
    BEGIN,
    "## Fault suite (`npm run chaos`)",
    "",
    `The seed workload (examples/seed: nginx and an HPA on \`memory_usage_bytes\`, scaled to 2) on the local cluster, HPA-shaped load through the kube-apiserver's aggregator (the seed HPA's own \`pods/*\` request, 20 per second, open loop, 30 s timeout; an empty list counts as a failure), the adapter with a fault proxy between it and Prometheus. Each fault after 5 s of quiet; "failed outside" counts failures that ended before the fault or started later than one relist interval plus 5 s (${String(RECOVERY_GOAL_MS / 1000)} s, relist ${String(RELIST_MS / 1000)} s) after its end; recovery is from the fault's end to the first success after the last failure. RSS / fds of the adapter process from /proc. What each fault looks like to an operator: docs/operations.md.`,
    "",
    table,
    "",
    `_Run ${date} on ${machine}._`,
    END,
  ].join("\n");
  if (only === undefined) {
    const file = "bench/RESULTS.md";
    const text = readFileSync(file, "utf8");
    const a = text.indexOf(BEGIN);
    const b = text.indexOf(END);
    const next =
      a >= 0 && b > a
        ? `${text.slice(0, a)}${section}${text.slice(b + END.length)}`
        : `${text.trimEnd()}\n\n${section}\n`;
    writeFileSync(file, next);
    process.stderr.write(`chaos: wrote the fault table into ${file}\n`);
  }
} catch (e) {
  process.stderr.write(`chaos: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  status = 1;
} finally {
  if (reuse === undefined) {
    cli(["local", "down", `--state-dir=${stateDir}`]);
    rmSync(stateDir, { recursive: true, force: true });
  }
}
process.exit(status);
