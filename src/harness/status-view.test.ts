import { test } from "node:test";
import assert from "node:assert/strict";
import { componentLine, componentState, describeExit, shortDuration } from "./status-view.ts";
import type { ComponentState } from "./supervisor.ts";
import type { ExitRecord } from "./watchdog.ts";

const NOW = Date.parse("2025-01-01T12:00:00Z");
const at = (secondsAgo: number) => new Date(NOW - secondsAgo * 1000).toISOString();
const exit = (e: Partial<ExitRecord>): ExitRecord => ({
  at: at(12),
  code: null,
  signal: null,
  error: null,
  ranMs: 1000,
  ...e,
});
const component = (c: Partial<ComponentState>): ComponentState => ({
  name: "prometheus",
  pid: 4242,
  alive: true,
  log: "/s/logs/prometheus.log",
  watchdog: { pid: 4240, alive: true },
  restarts: 0,
  lastExit: null,
  nextRestartAt: null,
  ...c,
});

test("an exit reads as its code, its signal, or why it could not start", () => {
  assert.equal(describeExit(exit({ code: 1 })), "exit code 1");
  assert.equal(describeExit(exit({ code: 0 })), "exit code 0");
  assert.equal(describeExit(exit({ signal: "SIGKILL" })), "killed by SIGKILL");
  assert.equal(
    describeExit(exit({ error: "spawn /no/such ENOENT" })),
    "could not start: spawn /no/such ENOENT",
  );
});

test("durations are short and rounded down", () => {
  assert.equal(shortDuration(0), "0s");
  assert.equal(shortDuration(-5), "0s");
  assert.equal(shortDuration(59_999), "59s");
  assert.equal(shortDuration(187_000), "3m07s");
  assert.equal(shortDuration(2 * 3600_000 + 5 * 60_000 + 59_000), "2h05m");
});

test("a component that never exited: running, no restarts, no notes", () => {
  assert.equal(
    componentLine(component({}), NOW),
    "prometheus               running  pid 4242     restarts 0   log /s/logs/prometheus.log",
  );
});

test("a restarted component shows its restarts and last exit", () => {
  const line = componentLine(
    component({ pid: 5151, restarts: 1, lastExit: exit({ signal: "SIGKILL" }) }),
    NOW,
  );
  assert.equal(
    line,
    "prometheus               running  pid 5151     restarts 1   log /s/logs/prometheus.log  (last exit: killed by SIGKILL, 12s ago)",
  );
});

test("a component waiting to be restarted is in BACKOFF, with when", () => {
  const c = component({
    name: "adapter",
    pid: 0,
    alive: false,
    log: "/s/logs/adapter.log",
    restarts: 4,
    lastExit: exit({ code: 1, at: at(3) }),
    nextRestartAt: new Date(NOW + 13_500).toISOString(),
  });
  assert.equal(componentState(c), "BACKOFF");
  assert.equal(
    componentLine(c, NOW),
    "adapter                  BACKOFF  pid -        restarts 4   log /s/logs/adapter.log  (last exit: exit code 1, 3s ago; restarting in 13s)",
  );
});

test("STOPPED without a watchdog; running without one is flagged", () => {
  const stopped = component({ alive: false, watchdog: { pid: 4240, alive: false } });
  assert.equal(componentState(stopped), "STOPPED");
  assert.match(componentLine(stopped, NOW), /^prometheus +STOPPED +pid 4242 /);
  assert.doesNotMatch(componentLine(stopped, NOW), /\(/);
  // Started by a harness without watchdogs: it runs, but nothing would restart it.
  const unwatched = component({ watchdog: null });
  assert.equal(componentState(unwatched), "running");
  assert.match(componentLine(unwatched, NOW), / \(no watchdog\)$/);
});
