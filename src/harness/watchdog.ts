/**
 * @module harness/watchdog
 * The small detached process each component of the local cluster runs under, as a kubelet runs a
 * container with `restartPolicy: Always`: it starts the component in its own process group,
 * appends its output to the component's log, and when it exits (for whatever reason) restarts it
 * after the CrashLoopBackOff of crash-backoff.ts. The current pid goes to the pid file; restarts
 * and the last exit go to a small JSON status file (written whole, then renamed, so readers never
 * see half of one).
 *
 * SIGTERM ends the watchdog at once and leaves the component alone: the supervisor stops the
 * watchdog first, so nothing restarts the component it stops next.
 *
 * Usage (supervisor.ts): watchdog --name N --log F --pid-file F --status-file F [--orphans DIR] -- COMMAND [ARG…]
 */
import { spawn } from "node:child_process";
import { appendFileSync, closeSync, openSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { HARNESS_BACKOFF, crashBackoff, type BackoffEntry } from "./crash-backoff.ts";
import { isAlive, killGroup } from "./process-group.ts";
import { describeExit } from "./status-view.ts";

/** How one run of the component ended. */
export interface ExitRecord {
  readonly at: string;
  /** Exit code, when it exited by itself. */
  readonly code: number | null;
  /** The signal that ended it. */
  readonly signal: string | null;
  /** Why it could not be started at all (spawn's error, such as ENOENT). */
  readonly error: string | null;
  /** How long that run lasted. */
  readonly ranMs: number;
}

/** The status file. */
export interface WatchdogStatus {
  readonly name: string;
  readonly watchdogPid: number;
  /** The component's current process; 0 while it waits to be restarted. */
  readonly pid: number;
  readonly state: "running" | "backoff";
  /** How many times it was started again after an exit (the kubelet's restartCount). */
  readonly restarts: number;
  readonly startedAt: string | null;
  readonly lastExit: ExitRecord | null;
  readonly nextRestartAt: string | null;
}

function main(): void {
  const { values, positionals } = parseArgs({
    options: {
      name: { type: "string" },
      log: { type: "string" },
      "pid-file": { type: "string" },
      "status-file": { type: "string" },
      orphans: { type: "string" },
    },
    allowPositionals: true,
  });
  const { name, log } = values;
  const pidFile = values["pid-file"];
  const statusFile = values["status-file"];
  const [command, ...args] = positionals;
  if (!name || !log || !pidFile || !statusFile || !command) {
    process.stderr.write(
      "usage: watchdog --name N --log F --pid-file F --status-file F [--orphans DIR] -- COMMAND [ARG…]\n",
    );
    process.exit(2);
  }
  // Stopping is the supervisor's job once we are gone: exit without touching the component.
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const)
    process.once(sig, () => process.exit(0));

  let status: WatchdogStatus = {
    name,
    watchdogPid: process.pid,
    pid: 0,
    state: "running",
    restarts: 0,
    startedAt: null,
    lastExit: null,
    nextRestartAt: null,
  };
  const save = (next: WatchdogStatus) => {
    status = next;
    const tmp = `${statusFile}.${String(process.pid)}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(status, null, 2)}\n`);
    renameSync(tmp, statusFile);
  };
  const note = (line: string) => {
    appendFileSync(log, `[watchdog ${new Date().toISOString()}] ${name}: ${line}\n`);
  };

  /** One run of the component, from spawn to exit. */
  const runOnce = (): Promise<{ exit: ExitRecord; pid: number }> => {
    const fd = openSync(log, "a");
    let child;
    try {
      child = spawn(command, args, { detached: true, stdio: ["ignore", fd, fd] });
    } finally {
      closeSync(fd);
    }
    const t0 = Date.now();
    const pid = child.pid ?? 0;
    // Both in the same tick as the spawn, so a stop never misses a component just started; the
    // status first, so whoever sees the new pid sees its restart counted.
    save({
      ...status,
      pid,
      state: "running",
      startedAt: new Date(t0).toISOString(),
      nextRestartAt: null,
    });
    if (pid > 0) writeFileSync(pidFile, `${String(pid)}\n`);
    return new Promise((resolve) => {
      let done = false;
      const end = (code: number | null, signal: string | null, error: string | null) => {
        if (done) return;
        done = true;
        const now = Date.now();
        resolve({
          pid,
          exit: { at: new Date(now).toISOString(), code, signal, error, ranMs: now - t0 },
        });
      };
      child.once("error", (e) => {
        end(null, null, e.message);
      });
      child.once("exit", (code, signal) => {
        end(code, signal, null);
      });
    });
  };

  void (async () => {
    let backoff: BackoffEntry | undefined;
    for (;;) {
      const { exit, pid } = await runOnce();
      const { waitMs, next } = crashBackoff(backoff, Date.parse(exit.at), HARNESS_BACKOFF);
      backoff = next;
      rmSync(pidFile, { force: true });
      save({
        ...status,
        pid: 0,
        state: "backoff",
        lastExit: exit,
        nextRestartAt: new Date(Date.parse(exit.at) + waitMs).toISOString(),
      });
      note(
        `${describeExit(exit)} after ${(exit.ranMs / 1000).toFixed(1)}s; restart ${String(status.restarts + 1)} in ${(waitMs / 1000).toFixed(0)}s`,
      );
      // What it left behind would hold its ports: the rest of its process group, as a container's
      // processes go with it, and the processes it started in their own groups (`--orphans`).
      if (pid > 0) signalGroup(pid, "SIGKILL");
      if (values.orphans !== undefined) await killOrphans(values.orphans);
      await sleep(Math.max(0, Date.parse(exit.at) + waitMs - Date.now()));
      status = { ...status, restarts: status.restarts + 1 };
    }
  })();
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* no process left in it */
  }
}

/** Stops every process named by a `DIR/<x>/<y>.pid` file (the node agent's pods). */
async function killOrphans(dir: string): Promise<void> {
  const pids: { pid: number; file: string }[] = [];
  for (const sub of await readdir(dir).catch(() => [] as string[])) {
    for (const f of await readdir(join(dir, sub)).catch(() => [] as string[])) {
      if (!f.endsWith(".pid")) continue;
      const file = join(dir, sub, f);
      const pid = Number((await readFile(file, "utf8").catch(() => "")).trim());
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) pids.push({ pid, file });
    }
  }
  await Promise.all(
    pids.map(async ({ pid, file }) => {
      await killGroup(pid, 5_000);
      await rm(file, { force: true });
    }),
  );
}

// Only as a program: other modules import its types.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main();
}
