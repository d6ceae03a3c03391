/**
 * @module test/support/proc-usage
 * What /proc says about the local node's pod processes and the node itself: the reference that
 * metrics.k8s.io answers (and `kubectl top`) are compared with. Read here independently of the
 * node agent's own /proc reader, so a mistake there cannot agree with itself.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { kubectlJson, waitFor } from "./cluster.ts";

const PAGE = 4096;
const TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

interface Proc {
  readonly ppid: number;
  readonly rssBytes: number;
  /** utime + stime, in seconds. */
  readonly cpuSeconds: number;
}

function processes(): Map<number, Proc> {
  const procs = new Map<number, Proc>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // The command name may hold spaces and parentheses: fields start after the last ')'.
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const statm = readFileSync(`/proc/${name}/statm`, "utf8").split(" ");
      procs.set(Number(name), {
        ppid: Number(rest[1]),
        rssBytes: Number(statm[1]) * PAGE,
        cpuSeconds: (Number(rest[11]) + Number(rest[12])) / TICKS,
      });
    } catch {
      // Gone meanwhile.
    }
  }
  return procs;
}

function treeSum(root: number, value: (p: Proc) => number): number {
  const procs = processes();
  let total = 0;
  const stack = [root];
  for (let pid = stack.pop(); pid !== undefined; pid = stack.pop()) {
    const p = procs.get(pid);
    if (p) total += value(p);
    for (const [child, c] of procs) if (c.ppid === pid) stack.push(child);
  }
  return total;
}

/** Resident memory of a process and all its descendants, as the node agent counts it. */
export function treeRssBytes(root: number): number {
  return treeSum(root, (p) => p.rssBytes);
}

/** CPU seconds (user + system) a process and its living descendants have used so far. */
export function treeCpuSeconds(root: number): number {
  return treeSum(root, (p) => p.cpuSeconds);
}

/** CPU seconds the node has been busy, all cores: /proc/stat's user, nice, system, irq, softirq, steal. */
export function nodeBusyCpuSeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / TICKS
  );
}

/** The node's memory in use: MemTotal − MemAvailable. */
export function nodeUsedBytes(): number {
  const mem = readFileSync("/proc/meminfo", "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(mem)?.[1] ?? 0);
  return (kb("MemTotal") - kb("MemAvailable")) * 1024;
}

/** Asserts `actual` is within [0.5, 2] × `expected`: the same usage, measured a moment apart. */
export function within(actual: number, expected: number, what: string): void {
  assert.ok(
    actual >= expected * 0.5 && actual <= expected * 2,
    `${what}: ${String(actual)} is not within [0.5, 2] × ${String(expected)}`,
  );
}

/**
 * Waits until `count` pods of the namespace that `selector` picks are Running with a process,
 * and returns pod name → the pid of its (first) container, from the node agent's container ID
 * `local-process://<pid>`.
 */
export async function runningPodPids(
  info: ClusterInfo,
  namespace: string,
  selector: string,
  count: number,
): Promise<Map<string, number>> {
  return waitFor(
    `${String(count)} running pods (${selector}) with processes`,
    async () => {
      const pods = await kubectlJson<{
        items: {
          metadata: { name: string };
          status: { phase?: string; containerStatuses?: { containerID?: string }[] };
        }[];
      }>(info, ["-n", namespace, "get", "pods", "-l", selector]);
      const m = new Map<string, number>();
      for (const p of pods.items) {
        const id = p.status.containerStatuses?.[0]?.containerID ?? "";
        const pid = /^local-process:\/\/(\d+)$/.exec(id)?.[1];
        if (p.status.phase === "Running" && pid) m.set(p.metadata.name, Number(pid));
      }
      return m.size === count ? m : undefined;
    },
    120_000,
  );
}
