/**
 * @module harness/node-agent/proc-stats
 * CPU and memory of process trees and of the whole node, read from /proc: what cAdvisor reads from
 * cgroups on a real node, close enough for a local cluster whose "containers" are processes.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

function clockTicks(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}

function pageSize(): number {
  try {
    return Number(execFileSync("getconf", ["PAGESIZE"], { encoding: "utf8" }).trim()) || 4096;
  } catch {
    return 4096;
  }
}

const TICKS = clockTicks();
const PAGE = pageSize();

interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime, in seconds. */
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(rest[1]);
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    const rssPages = Number(rest[21]);
    return { pid, ppid, cpuSeconds: (utime + stime) / TICKS, rssBytes: rssPages * PAGE };
  } catch {
    return undefined;
  }
}

export function allProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p) out.push(p);
  }
  return out;
}

export interface Usage {
  readonly cpuSeconds: number;
  readonly memoryBytes: number;
}

/** Usage of each root's whole process tree (nginx's master and workers count as one container). */
export function treeUsage(roots: readonly number[], procs = allProcesses()): Map<number, Usage> {
  const children = new Map<number, ProcInfo[]>();
  const byPid = new Map<number, ProcInfo>();
  for (const p of procs) {
    byPid.set(p.pid, p);
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const out = new Map<number, Usage>();
  for (const root of roots) {
    const top = byPid.get(root);
    if (!top) continue;
    let cpu = 0;
    let mem = 0;
    const stack = [top];
    for (let p = stack.pop(); p; p = stack.pop()) {
      cpu += p.cpuSeconds;
      mem += p.rssBytes;
      stack.push(...(children.get(p.pid) ?? []));
    }
    out.set(root, { cpuSeconds: cpu, memoryBytes: mem });
  }
  return out;
}

/** The node: busy CPU seconds across all cores, and memory in use (total minus available). */
export function nodeUsage(): Usage {
  const cpuLine = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const f = cpuLine.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  const mem = readFileSync("/proc/meminfo", "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(mem)?.[1] ?? 0);
  return {
    cpuSeconds: busy / TICKS,
    memoryBytes: (kb("MemTotal") - kb("MemAvailable")) * 1024,
  };
}

export function memoryCapacityBytes(): number {
  const mem = readFileSync("/proc/meminfo", "utf8");
  return Number(/^MemTotal:\s+(\d+)/m.exec(mem)?.[1] ?? 0) * 1024;
}
