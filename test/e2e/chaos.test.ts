/**
 * @module test/chaos
 * The fault suite's short form (test/chaos/suite.ts; `npm run chaos` is the full form with the
 * figures): every fault while HPA-shaped load goes through the aggregator of the shared local
 * cluster. For each: no failure before the fault, requests succeed again after it, the adapter
 * was not restarted (but for the SIGKILL case), the seed HPA kept its replicas, and the adapter
 * holds no more file descriptors than before. Timing goals are the full form's (bench/RESULTS.md).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { testCluster } from "../support/cluster.ts";
import { ensureRegisteredAdapter } from "../support/registered-adapter.ts";
import { CASE_NAMES, faultTable, runChaos } from "../chaos/suite.ts";

test(
  "every fault: served again without restarting the adapter, seed HPA unmoved",
  { timeout: 1_500_000 },
  async (t) => {
    const info = await testCluster();
    await ensureRegisteredAdapter(info);
    const only = process.env["K8SCM_CHAOS_CASES"]?.split(",").filter((x) => x !== "");
    const results = await runChaos({
      info,
      form: "short",
      log: (line) => {
        t.diagnostic(line);
      },
      ...(only === undefined ? {} : { only }),
    });
    t.diagnostic(`\n${faultTable(results)}`);
    assert.deepEqual(
      results.map((r) => r.name),
      CASE_NAMES.filter((n) => only === undefined || only.includes(n)),
    );
    for (const r of results) {
      const where = `${r.name}: ${JSON.stringify(r)}`;
      assert.equal(r.requests > 0, true, where);
      assert.equal(r.failedBefore, 0, where);
      assert.ok(Number.isFinite(r.recoveryMs), `not recovered: ${where}`);
      assert.equal(r.adapterRestarted, r.name === "adapter-sigkill", where);
      assert.equal(r.hpaKept, true, where);
      if (!r.adapterRestarted) {
        assert.ok(r.before !== undefined && r.after !== undefined, where);
        // Connections of the fault are closed again: nothing left open beyond a little slack.
        assert.ok(r.after.fds <= r.before.fds + 30, `fds grew: ${where}`);
      }
    }
  },
);
