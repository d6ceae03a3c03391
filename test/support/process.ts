/**
 * @module test/support/process
 * Stopping a child process the tests started: SIGTERM, then SIGKILL after 5 s.
 */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(killer);
}
