/**
 * @module harness/kubectl
 * kubectl against the local cluster, with its admin kubeconfig: stdout, or the failure.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { ClusterInfo } from "./cluster.ts";

const exec = promisify(execFile);

/** Runs `kubectl args…` with `input` on stdin; resolves to its stdout. */
export async function kubectl(info: ClusterInfo, args: string[], input?: string): Promise<string> {
  const p = exec("kubectl", [`--kubeconfig=${info.kubeconfig}`, ...args]);
  if (input !== undefined) p.child.stdin?.end(input);
  return (await p).stdout;
}
