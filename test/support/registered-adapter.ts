/**
 * @module test/support/registered-adapter
 * The adapter registered behind the shared local cluster's aggregator: started once by the first
 * test file that needs it, then reused (it is a component of the cluster, stopped by `local down`).
 */
import { startAdapter, type RunningAdapter } from "../../src/harness/adapter-process.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { statePaths } from "../../src/harness/paths.ts";
import { Supervisor } from "../../src/harness/supervisor.ts";
import { existingRegistration } from "../../src/harness/adapter-registration.ts";

export async function ensureRegisteredAdapter(info: ClusterInfo): Promise<RunningAdapter> {
  const p = statePaths(info.stateDir);
  const running = (await new Supervisor(p.logs, p.run).list()).find((c) => c.name === "adapter");
  if (running?.alive) {
    return { ...existingRegistration(info), pid: running.pid, log: running.log };
  }
  return startAdapter(info);
}
