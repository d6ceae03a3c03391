/**
 * @module harness/status-view
 * `local status` as text: one line per component with its state, pid, restarts and last exit.
 */
import type { ComponentState } from "./supervisor.ts";
import type { ExitRecord } from "./watchdog.ts";

export function describeExit(e: ExitRecord): string {
  if (e.error !== null) return `could not start: ${e.error}`;
  if (e.signal !== null) return `killed by ${e.signal}`;
  return `exit code ${String(e.code ?? "?")}`;
}

/** A duration as `45s`, `3m07s` or `2h05m`, rounded down. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${String(s)}s`;
  const two = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${String(Math.floor(s / 60))}m${two(s % 60)}s`;
  return `${String(Math.floor(s / 3600))}h${two(Math.floor(s / 60) % 60)}m`;
}

/** `running`, `BACKOFF` (exited, its watchdog restarts it soon) or `STOPPED`. */
export function componentState(c: ComponentState): "running" | "BACKOFF" | "STOPPED" {
  if (c.alive) return "running";
  return c.watchdog?.alive === true ? "BACKOFF" : "STOPPED";
}

export function componentLine(c: ComponentState, now: number): string {
  const state = componentState(c);
  const notes: string[] = [];
  if (c.lastExit !== null) {
    notes.push(
      `last exit: ${describeExit(c.lastExit)}, ${shortDuration(now - Date.parse(c.lastExit.at))} ago`,
    );
  }
  if (state === "BACKOFF" && c.nextRestartAt !== null) {
    notes.push(`restarting in ${shortDuration(Date.parse(c.nextRestartAt) - now)}`);
  }
  // Started by an older version, or its watchdog died: nothing brings it back if it exits.
  if (state === "running" && c.watchdog?.alive !== true) notes.push("no watchdog");
  const pid = c.pid > 0 ? String(c.pid) : "-";
  return [
    c.name.padEnd(24),
    state.padEnd(8),
    `pid ${pid.padEnd(8)}`,
    `restarts ${String(c.restarts).padEnd(3)}`,
    `log ${c.log}`,
    ...(notes.length > 0 ? [` (${notes.join("; ")})`] : []),
  ].join(" ");
}
