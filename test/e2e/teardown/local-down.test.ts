import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { status } from "../../../src/harness/cluster.ts";
import { isAlive, portFree } from "../../../src/harness/supervisor.ts";
import { testCluster } from "../../support/cluster.ts";

const exec = promisify(execFile);

test(
  "local down stops every process of the cluster, pods included",
  { timeout: 120_000 },
  async () => {
    const info = await testCluster();
    const before = await status(info.stateDir);
    const pids = before.components.map((c) => c.pid);
    assert.ok(before.components.length >= 5, "the cluster's components are running");
    assert.ok(before.components.every((c) => c.alive));
    // Pod processes are children of the node agent: find them through /proc.
    const { stdout } = await exec("pgrep", ["-f", info.stateDir]).catch(() => ({ stdout: "" }));
    const all = [...new Set([...pids, ...stdout.split("\n").filter(Boolean).map(Number)])];

    await exec(process.execPath, [
      "bin/k8s-custom-metrics.js",
      "local",
      "down",
      `--state-dir=${info.stateDir}`,
    ]);

    const left = all.filter((pid) => isAlive(pid));
    assert.deepEqual(left, [], "no process of the cluster is left");
    for (const port of [
      info.ports.apiserver,
      info.ports.etcd,
      info.ports.prometheus,
      info.ports.nodeAgent,
    ]) {
      assert.ok(await portFree(port), `port ${String(port)} is free again`);
    }
    const after = await status(info.stateDir);
    assert.equal(after.components.length, 0);
    assert.equal(after.info, undefined);
  },
);
