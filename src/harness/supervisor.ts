/**
 * @module harness/supervisor
 * Starts the local cluster's components as detached processes that outlive the CLI, each with a
 * log file and a pid file in the state folder, and stops them again.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, existsSync } from "node:fs";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { KcmError } from "../errors.ts";

export interface ComponentSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Resolves true once the component serves; polled until `timeoutMs`. */
  readonly ready: () => Promise<boolean>;
  readonly timeoutMs?: number;
}

export interface Running {
  readonly name: string;
  readonly pid: number;
  readonly log: string;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
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

  pidFile(name: string): string {
    return join(this.#run, `${name}.pid`);
  }

  /** Starts the component and waits until it is ready; a component that dies or stalls is an error. */
  async start(spec: ComponentSpec): Promise<Running> {
    const log = this.logFile(spec.name);
    const fd = openSync(log, "a");
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);
    const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
    const pid = child.pid;
    if (pid === undefined) {
      const err = await spawnError;
      throw new KcmError(
        "KCM_ERR_PREREQ_MISSING",
        `cannot start ${spec.name} (${spec.command}): ${err.message}`,
      );
    }
    child.unref();
    await writeFile(this.pidFile(spec.name), `${pid}\n`);
    const deadline = Date.now() + (spec.timeoutMs ?? 60_000);
    for (;;) {
      if (!isAlive(pid) || child.exitCode !== null) {
        throw new KcmError(
          "KCM_ERR_COMPONENT_DIED",
          `${spec.name} exited during start-up; log ${log}:\n    ${tail(log)}`,
        );
      }
      if (await spec.ready().catch(() => false)) return { name: spec.name, pid, log };
      if (Date.now() > deadline) {
        throw new KcmError(
          "KCM_ERR_COMPONENT_TIMEOUT",
          `${spec.name} was not ready after ${(spec.timeoutMs ?? 60_000) / 1000}s; log ${log}:\n    ${tail(log)}`,
        );
      }
      await sleep(250);
    }
  }

  /** Components with a pid file, and whether each still runs. */
  async list(): Promise<{ name: string; pid: number; alive: boolean; log: string }[]> {
    if (!existsSync(this.#run)) return [];
    const out = [];
    for (const f of (await readdir(this.#run)).sort()) {
      if (!f.endsWith(".pid")) continue;
      const name = f.slice(0, -4);
      const pid = Number((await readFile(join(this.#run, f), "utf8")).trim());
      out.push({
        name,
        pid,
        alive: Number.isInteger(pid) && isAlive(pid),
        log: this.logFile(name),
      });
    }
    return out;
  }

  /**
   * Stops one component: SIGTERM to its process group (so children such as nginx workers go too),
   * then SIGKILL after the grace period.
   */
  async stop(name: string, graceMs = 10_000): Promise<void> {
    const file = this.pidFile(name);
    if (!existsSync(file)) return;
    const pid = Number((await readFile(file, "utf8")).trim());
    if (Number.isInteger(pid) && pid > 0) await killGroup(pid, graceMs);
    await rm(file, { force: true });
  }
}

/** Signals a detached process's group, waiting up to `graceMs` before SIGKILL. */
export async function killGroup(pid: number, graceMs: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  if (!isAlive(pid)) return;
  signal("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    signal("SIGKILL");
    while (isAlive(pid)) await sleep(50);
  }
}
