/**
 * The local cluster's supervision, on the shared cluster: a component that dies comes back, and
 * `local status` says so; the CLI's output survives a reader that goes away.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { promisify } from "node:util";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { statePaths } from "../../src/harness/paths.ts";
import { returns200 } from "../../src/harness/probe.ts";
import { Supervisor, type ComponentState } from "../../src/harness/supervisor.ts";
import { promQuery, testCluster, waitFor } from "../support/cluster.ts";

const exec = promisify(execFile);
const CLI = "bin/k8s-custom-metrics.js";

async function component(info: ClusterInfo, name: string): Promise<ComponentState | undefined> {
  const p = statePaths(info.stateDir);
  return (await new Supervisor(p.logs, p.run).list()).find((c) => c.name === name);
}

describe("local cluster supervision", { timeout: 240_000 }, () => {
  // Prometheus: other tests lose nothing (its WAL is replayed), and nothing else depends on it
  // being up at every moment, unlike etcd or the apiserver.
  test("a killed Prometheus is restarted, ready again, and local status reports the restart", async () => {
    const info = await testCluster();
    const before = await component(info, "prometheus");
    assert.ok(before?.alive, "prometheus runs");
    assert.ok(before.watchdog?.alive, "under a watchdog");

    const killedAt = Date.now();
    process.kill(before.pid, "SIGKILL");
    const after = await waitFor(
      "prometheus to be started again",
      async () => {
        const c = await component(info, "prometheus");
        return c?.alive === true && c.pid !== before.pid ? c : undefined;
      },
      60_000,
      200,
    );
    assert.equal(after.restarts, before.restarts + 1);
    assert.equal(after.lastExit?.signal, "SIGKILL");
    assert.equal(after.watchdog?.pid, before.watchdog.pid, "the same watchdog restarted it");

    await waitFor(
      "prometheus to be ready",
      async () => ((await returns200(`${info.prometheusUrl}/-/ready`)) ? true : undefined),
      120_000,
    );
    // It scrapes again: a sample newer than the kill.
    await waitFor(
      "a scrape after the restart",
      async () => {
        const [s] = await promQuery(info, 'max(timestamp(up{job="kubelet-cadvisor"}))');
        return s && Number(s.value[1]) * 1000 > killedAt ? true : undefined;
      },
      60_000,
      1000,
    );

    const text = await exec(process.execPath, [
      CLI,
      "local",
      "status",
      `--state-dir=${info.stateDir}`,
    ]);
    const line = text.stdout.split("\n").find((l) => l.startsWith("prometheus "));
    assert.match(
      line ?? "",
      new RegExp(
        `^prometheus +running +pid ${String(after.pid)} +restarts ${String(after.restarts)} +log \\S+prometheus\\.log +\\(last exit: killed by SIGKILL, \\d+s ago\\)$`,
      ),
      text.stdout,
    );
    const json = await exec(process.execPath, [
      CLI,
      "local",
      "status",
      "-o",
      "json",
      `--state-dir=${info.stateDir}`,
    ]);
    const prom = (JSON.parse(json.stdout) as { components: ComponentState[] }).components.find(
      (c) => c.name === "prometheus",
    );
    assert.equal(prom?.restarts, after.restarts);
    assert.equal(prom.lastExit?.signal, "SIGKILL");
    assert.equal(prom.lastExit.code, null);
  });

  test("output into a pipe whose reader is gone ends quietly with 0 (local status | head)", async () => {
    const info = await testCluster();
    const dir = `--state-dir=${info.stateDir}`;
    for (const args of [
      ["local", "status", dir],
      ["local", "status", "-o", "json", dir],
      ["local", "env", dir],
    ]) {
      const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      // Closed before the first line: every write meets EPIPE.
      child.stdout.destroy();
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      const [code, signal] = (await once(child, "close")) as [number | null, string | null];
      assert.equal(signal, null, args.join(" "));
      assert.equal(code, 0, `${args.join(" ")}: ${stderr}`);
      assert.equal(stderr, "", args.join(" "));
    }
    // As typed in a shell; pipefail makes the CLI's own exit status the pipeline's.
    const r = await exec("bash", [
      "-c",
      `set -o pipefail; "${process.execPath}" ${CLI} local status '${dir}' | head -1`,
    ]);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /^\S+ +running +pid \d+ [^\n]*\n$/);
  });
});
