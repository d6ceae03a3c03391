import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { KcmError } from "../errors.ts";
import { Supervisor, assertPortsFree, isAlive, type ComponentState } from "./supervisor.ts";

const dirs = () => {
  const root = mkdtempSync(join(tmpdir(), "kcm-sup-"));
  return new Supervisor(root, root);
};

/** Polls the component's state until `ok`; bounded. */
async function until(
  sup: Supervisor,
  name: string,
  ok: (c: ComponentState) => boolean,
  timeoutMs = 15_000,
): Promise<ComponentState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = (await sup.list()).find((x) => x.name === name);
    if (c && ok(c)) return c;
    if (Date.now() > deadline) assert.fail(`${name}: ${JSON.stringify(c)}`);
    await sleep(100);
  }
}

test("starts a detached process, lists it, and stops it", async (t) => {
  const sup = dirs();
  t.after(() => sup.stop("sleeper", 1000));
  const r = await sup.start({
    name: "sleeper",
    command: "sleep",
    args: ["30"],
    ready: () => Promise.resolve(true),
  });
  assert.ok(isAlive(r.pid));
  const [c] = await sup.list();
  assert.deepEqual([c?.name, c?.alive, c?.pid, c?.restarts], ["sleeper", true, r.pid, 0]);
  assert.ok(c?.watchdog?.alive, "it runs under a watchdog");
  await sup.stop("sleeper", 2000);
  assert.ok(!isAlive(r.pid));
  assert.ok(!isAlive(c.watchdog.pid));
  assert.deepEqual(await sup.list(), []);
});

test("a component that exits during start-up is reported with its log", async () => {
  const sup = dirs();
  await assert.rejects(
    sup.start({
      name: "crasher",
      command: "sh",
      args: ["-c", "echo boom-from-crasher >&2; exit 3"],
      ready: () => Promise.resolve(false),
    }),
    (e: unknown) =>
      e instanceof KcmError &&
      e.code === "KCM_ERR_COMPONENT_DIED" &&
      /boom-from-crasher/.test(e.message),
  );
});

test("a missing program and a busy port are clear errors", async () => {
  const sup = dirs();
  await assert.rejects(
    sup.start({
      name: "ghost",
      command: "/nonexistent/program",
      args: [],
      ready: () => Promise.resolve(true),
    }),
    (e: unknown) => e instanceof KcmError && e.code === "KCM_ERR_PREREQ_MISSING",
  );
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await assert.rejects(
    assertPortsFree({ "kube-apiserver": port }),
    (e: unknown) =>
      e instanceof KcmError && e.code === "KCM_ERR_PORT_BUSY" && e.message.includes(String(port)),
  );
  srv.close();
});

test("a component that dies is restarted with backoff; list shows restarts and the last exit", async (t) => {
  const sup = dirs();
  t.after(() => sup.stop("victim", 1000));
  const r = await sup.start({
    name: "victim",
    command: "sh",
    args: ["-c", "echo started-$$; exec sleep 60"],
    ready: () => Promise.resolve(true),
  });
  process.kill(r.pid, "SIGKILL");
  // The first exit restarts at once.
  const second = await until(sup, "victim", (c) => c.alive && c.pid !== r.pid);
  assert.equal(second.restarts, 1);
  assert.equal(second.lastExit?.signal, "SIGKILL");
  assert.equal(second.lastExit.code, null);
  assert.ok(!isAlive(r.pid));

  // The second one in a row waits (1 s); meanwhile it is in backoff, its watchdog alive.
  process.kill(second.pid, "SIGKILL");
  const waiting = await until(sup, "victim", (c) => c.nextRestartAt !== null);
  assert.equal(waiting.pid, 0);
  assert.equal(waiting.alive, false);
  assert.ok(waiting.watchdog?.alive);
  const third = await until(sup, "victim", (c) => c.alive);
  assert.equal(third.restarts, 2);
  assert.ok(Date.now() - Date.parse(third.lastExit?.at ?? "") >= 900, "it waited about 1 s");

  // Every run and the watchdog's notes go to the one log.
  const runs = () => readFileSync(r.log, "utf8").match(/^started-\d+$/gm)?.length ?? 0;
  for (let i = 0; i < 100 && runs() < 3; i++) await sleep(100);
  const log = readFileSync(r.log, "utf8");
  assert.equal(runs(), 3, log);
  assert.match(log, /victim: killed by SIGKILL after [\d.]+s; restart 2 in 1s/);

  await sup.stop("victim", 2000);
  assert.ok(!isAlive(third.pid));
  assert.ok(!isAlive(third.watchdog?.pid ?? 0));
  assert.deepEqual(await sup.list(), []);
});

test("a clean exit is restarted too (restartPolicy Always), with its exit code", async (t) => {
  const sup = dirs();
  t.after(() => sup.stop("oneshot", 1000));
  await sup.start({
    name: "oneshot",
    command: "sh",
    args: ["-c", "sleep 0.5; exit 0"],
    ready: () => Promise.resolve(true),
  });
  const c = await until(sup, "oneshot", (x) => x.restarts >= 1);
  assert.equal(c.lastExit?.code, 0);
  assert.equal(c.lastExit.signal, null);
  await sup.stop("oneshot", 2000);
  assert.deepEqual(await sup.list(), []);
});

test("processes a component left behind in its orphans folder are stopped before it restarts", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "kcm-sup-"));
  const sup = new Supervisor(root, root);
  const pidFile = join(root, "pods", "p1", "c.pid");
  t.after(async () => {
    await sup.stop("agent", 1000);
    const left = Number(readFileSync(pidFile, "utf8").trim());
    if (left > 0 && isAlive(left)) process.kill(-left, "SIGKILL");
  });
  const pods = join(root, "pods");
  mkdirSync(join(pods, "p1"), { recursive: true });
  const r = await sup.start({
    name: "agent",
    command: "sh",
    // Like the node agent: a "pod" in its own session, its pid in a file.
    args: ["-c", `setsid sleep 60 & echo $! > ${pidFile}; exec sleep 60`],
    ready: () =>
      Promise.resolve(
        readdirSync(join(pods, "p1")).length > 0 && /^\d+\n$/.test(readFileSync(pidFile, "utf8")),
      ),
    orphans: pods,
  });
  const orphan = Number(readFileSync(pidFile, "utf8").trim());
  assert.ok(isAlive(orphan));
  process.kill(r.pid, "SIGKILL");
  const again = await until(sup, "agent", (c) => c.alive && c.pid !== r.pid);
  assert.ok(!isAlive(orphan), "the orphan was stopped");
  await sup.stop("agent", 2000);
  assert.ok(!isAlive(again.pid));
});

test("stop leaves nothing to restart: the watchdog goes first", async (t) => {
  const sup = dirs();
  t.after(() => sup.stop("stubborn", 500));
  const r = await sup.start({
    name: "stubborn",
    command: "sh",
    // Ignores SIGTERM: stop must wait the grace period and SIGKILL it, with no restart meanwhile.
    args: ["-c", "trap '' TERM; while :; do sleep 0.1; done"],
    ready: () => Promise.resolve(true),
  });
  const [c] = await sup.list();
  await sup.stop("stubborn", 500);
  assert.ok(!isAlive(r.pid));
  assert.ok(!isAlive(c?.watchdog?.pid ?? 0));
  await sleep(300);
  assert.deepEqual(await sup.list(), []);
  assert.doesNotMatch(readFileSync(r.log, "utf8"), /restart/);
});
