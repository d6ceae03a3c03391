/**
 * @module harness/supervisor
 * Starts the local cluster's components as detached processes that outlive the CLI, each under a
 * watchdog (watchdog.ts) that restarts it when it exits, with a log file, pid files and a status
 * file in the state folder; and stops them again, watchdog first.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, existsSync } from "node:fs";
import { readdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { KcmError } from "../errors.ts";
import { isAlive, killGroup } from "./process-group.ts";
import { describeExit } from "./status-view.ts";
import type { ExitRecord, WatchdogStatus } from "./watchdog.ts";

export { isAlive, killGroup };

export interface ComponentSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Resolves true once the component serves; polled until `timeoutMs`. */
  readonly ready: () => Promise<boolean>;
  readonly timeoutMs?: number;
  /**
   * A folder whose `<x>/<y>.pid` files name processes the component starts in their own process
   * groups (the node agent's pods): stopped before it is restarted, since it cannot adopt them.
   */
  readonly orphans?: string;
}

export interface Running {
  readonly name: string;
  readonly pid: number;
  readonly log: string;
}

/** One component as its files in the state folder tell. */
export interface ComponentState {
  readonly name: string;
  /** The component's process; 0 when none (it waits to be restarted). */
  readonly pid: number;
  readonly alive: boolean;
  readonly log: string;
  /** Null for a component started without one (an older version of this harness). */
  readonly watchdog: { readonly pid: number; readonly alive: boolean } | null;
  readonly restarts: number;
  readonly lastExit: ExitRecord | null;
  readonly nextRestartAt: string | null;
}

/** How to run watchdog.ts: compiled beside us, or through tsx in a checkout. */
function watchdogArgv(): string[] {
  if (import.meta.url.endsWith(".ts")) {
    return [
      "--import",
      import.meta.resolve("tsx"),
      fileURLToPath(new URL("./watchdog.ts", import.meta.url)),
    ];
  }
  return [fileURLToPath(new URL("./watchdog.js", import.meta.url))];
}

function readPid(file: string): number {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return 0;
  }
}

function readStatus(file: string): WatchdogStatus | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as WatchdogStatus;
  } catch {
    return undefined;
  }
}

export function portFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => {
      resolve(false);
    });
    srv.listen({ port, host, exclusive: true }, () => {
      srv.close(() => {
        resolve(true);
      });
    });
  });
}

export async function assertPortsFree(ports: Record<string, number>): Promise<void> {
  for (const [what, port] of Object.entries(ports)) {
    if (!(await portFree(port))) {
      throw new KcmError("KCM_ERR_PORT_BUSY", `port ${port} (for ${what}) on 127.0.0.1 is in use`);
    }
  }
}

function tail(file: string, lines = 5): string {
  try {
    const all = readFileSync(file, "utf8").trimEnd().split("\n");
    return all.slice(-lines).join("\n    ");
  } catch {
    return "";
  }
}

export class Supervisor {
  readonly #logs: string;
  readonly #run: string;

  constructor(logsDir: string, runDir: string) {
    this.#logs = logsDir;
    this.#run = runDir;
  }

  logFile(name: string): string {
    return join(this.#logs, `${name}.log`);
  }

  /** The component's current process. */
  pidFile(name: string): string {
    return join(this.#run, `${name}.pid`);
  }

  #files(name: string) {
    return {
      pid: this.pidFile(name),
      watchdog: join(this.#run, `${name}.watchdog.pid`),
      status: join(this.#run, `${name}.status.json`),
    };
  }

  /**
   * Starts the component under its watchdog and waits until it is ready. A component that exits
   * or stalls before that is an error, and is stopped: start-up failures are not retried.
   */
  async start(spec: ComponentSpec): Promise<Running> {
    const log = this.logFile(spec.name);
    const files = this.#files(spec.name);
    // Left by a run that ended without `down`, they would describe processes long gone.
    for (const f of Object.values(files)) await rm(f, { force: true });
    const fd = openSync(log, "a");
    let watchdog;
    try {
      watchdog = spawn(
        process.execPath,
        [
          ...watchdogArgv(),
          `--name=${spec.name}`,
          `--log=${log}`,
          `--pid-file=${files.pid}`,
          `--status-file=${files.status}`,
          ...(spec.orphans === undefined ? [] : [`--orphans=${spec.orphans}`]),
          "--",
          spec.command,
          ...spec.args,
        ],
        {
          cwd: spec.cwd,
          env: { ...process.env, ...spec.env },
          detached: true,
          stdio: ["ignore", fd, fd],
        },
      );
    } finally {
      closeSync(fd);
    }
    const wpid = watchdog.pid;
    if (wpid === undefined) {
      const err = await new Promise<Error>((resolve) => watchdog.once("error", resolve));
      throw new KcmError(
        "KCM_ERR_PREREQ_MISSING",
        `cannot start ${spec.name}'s watchdog (${process.execPath}): ${err.message}`,
      );
    }
    watchdog.unref();
    await writeFile(files.watchdog, `${String(wpid)}\n`);
    const timeoutMs = spec.timeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const st = readStatus(files.status);
        if (st?.lastExit) {
          if (st.lastExit.error !== null) {
            throw new KcmError(
              "KCM_ERR_PREREQ_MISSING",
              `cannot start ${spec.name} (${spec.command}): ${st.lastExit.error}`,
            );
          }
          throw new KcmError(
            "KCM_ERR_COMPONENT_DIED",
            `${spec.name} exited during start-up (${describeExit(st.lastExit)}); log ${log}:\n    ${tail(log)}`,
          );
        }
        if (!isAlive(wpid)) {
          throw new KcmError(
            "KCM_ERR_COMPONENT_DIED",
            `the watchdog of ${spec.name} exited during start-up; log ${log}:\n    ${tail(log)}`,
          );
        }
        if (st !== undefined && st.pid > 0 && (await spec.ready().catch(() => false))) {
          return { name: spec.name, pid: st.pid, log };
        }
        if (Date.now() > deadline) {
          throw new KcmError(
            "KCM_ERR_COMPONENT_TIMEOUT",
            `${spec.name} was not ready after ${timeoutMs / 1000}s; log ${log}:\n    ${tail(log)}`,
          );
        }
        // The watchdog itself takes a moment to start; the component, usually longer.
        await sleep(st === undefined ? 50 : 250);
      }
    } catch (e) {
      await this.stop(spec.name, 5_000);
      throw e;
    }
  }

  /** Components with a pid file, whether each runs, and their restarts. */
  async list(): Promise<ComponentState[]> {
    if (!existsSync(this.#run)) return [];
    const names = new Set<string>();
    for (const f of await readdir(this.#run)) {
      if (f.endsWith(".watchdog.pid")) names.add(f.slice(0, -".watchdog.pid".length));
      else if (f.endsWith(".pid")) names.add(f.slice(0, -".pid".length));
    }
    return [...names].sort().map((name) => this.#state(name));
  }

  #state(name: string): ComponentState {
    const files = this.#files(name);
    const pid = readPid(files.pid);
    const wpid = readPid(files.watchdog);
    const st = readStatus(files.status);
    return {
      name,
      pid,
      alive: pid > 0 && isAlive(pid),
      log: this.logFile(name),
      watchdog: wpid > 0 ? { pid: wpid, alive: isAlive(wpid) } : null,
      restarts: st?.restarts ?? 0,
      lastExit: st?.lastExit ?? null,
      nextRestartAt: st?.state === "backoff" ? st.nextRestartAt : null,
    };
  }

  /**
   * Stops one component: its watchdog first, so that nothing restarts it, then SIGTERM to the
   * component's process group (so children such as nginx workers go too), SIGKILL after the grace
   * period.
   */
  async stop(name: string, graceMs = 10_000): Promise<void> {
    const files = this.#files(name);
    const wpid = readPid(files.watchdog);
    if (wpid > 0) await killGroup(wpid, 5_000);
    // Read after the watchdog is gone: it writes the pid of a process it starts in the same tick.
    const pid = readPid(files.pid);
    if (pid > 0) await killGroup(pid, graceMs);
    for (const f of Object.values(files)) await rm(f, { force: true });
  }
}
