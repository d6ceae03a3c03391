/**
 * @module test/demo-teardown
 * `npm start | tee log`, then Ctrl-C: the demo's stdout is a pipe whose reader is gone before the
 * teardown starts, and npm follows the SIGINT with a SIGTERM. A real `local demo` (its own
 * cluster, on ports apart from the test cluster's) gets exactly that; every process of its
 * cluster must be gone afterwards.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { status } from "../../src/harness/cluster.ts";
import { portsFrom } from "../../src/harness/ports.ts";
import { isAlive, portFree } from "../../src/harness/supervisor.ts";

const exec = promisify(execFile);
const CLI = new URL("../../bin/k8s-custom-metrics.js", import.meta.url).pathname;
/** Apart from the test cluster's ports and pod network (ports.ts: base+80…base+444, /16 per 1000). */
const BASE = Number(
  process.env["K8SCM_DEMO_TEST_PORT_BASE"] ??
    Number(process.env["K8SCM_TEST_PORT_BASE"] ?? "26000") + 1500,
);

test(
  "Ctrl-C with stdout a closed pipe, then SIGTERM: the demo's cluster is torn down",
  { timeout: 900_000 },
  async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "kcm-demo-"));
    const child = spawn(
      process.execPath,
      [CLI, "local", "demo", `--state-dir=${stateDir}`, `--port-base=${String(BASE)}`],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-20_000);
    });
    let views = 0;
    child.stdout.on("data", (d: Buffer) => {
      if (d.toString().includes("k8s-custom-metrics local demo")) views++;
    });
    try {
      // The first live view, or the demo's end (ports taken, a missing program): no use waiting.
      const deadline = Date.now() + 600_000;
      while (views === 0) {
        assert.equal(child.exitCode, null, `the demo ended before its first view:\n${stderr}`);
        assert.ok(Date.now() < deadline, `no live view after 600 s:\n${stderr}`);
        await sleep(1000);
      }
      const before = await status(stateDir);
      assert.ok(before.components.length >= 5, stderr);
      const { stdout } = await exec("pgrep", ["-f", stateDir]).catch(() => ({ stdout: "" }));
      const pids = [
        ...new Set([
          ...before.components.map((c) => c.pid),
          ...stdout.split("\n").filter(Boolean).map(Number),
        ]),
      ].filter((p) => p !== child.pid);

      // The reader goes away (tee killed by the same Ctrl-C). The next view is written into the
      // closed pipe (every 10 s when stdout is not a terminal): the demo must live on through it.
      child.stdout.destroy();
      await sleep(12_000);
      assert.equal(child.exitCode, null, `the demo ended on a closed stdout:\n${stderr}`);

      child.kill("SIGINT");
      await sleep(1000);
      child.kill("SIGTERM");
      const [code, signal] = await exited;
      assert.equal(signal, null, stderr);
      assert.equal(code, 0, stderr);
      assert.match(stderr, /stopping the local cluster/);

      assert.deepEqual(
        pids.filter((p) => isAlive(p)),
        [],
        "no process of the demo's cluster is left",
      );
      const ports = portsFrom(BASE);
      for (const port of [ports.apiserver, ports.etcd, ports.prometheus, ports.nodeAgent]) {
        assert.ok(await portFree(port), `port ${String(port)} is free again`);
      }
      const after = await status(stateDir);
      assert.equal(after.components.length, 0);
      assert.equal(after.info, undefined);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      // Whatever happened above, nothing of this cluster outlives the test.
      await exec(process.execPath, [CLI, "local", "down", `--state-dir=${stateDir}`]).catch(
        () => undefined,
      );
      await rm(stateDir, { recursive: true, force: true });
    }
  },
);
