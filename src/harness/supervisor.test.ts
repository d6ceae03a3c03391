import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KcmError } from "../errors.ts";
import { Supervisor, assertPortsFree, isAlive } from "./supervisor.ts";

const dirs = () => {
  const root = mkdtempSync(join(tmpdir(), "kcm-sup-"));
  return new Supervisor(root, root);
};

test("starts a detached process, lists it, and stops it", async () => {
  const sup = dirs();
  const r = await sup.start({
    name: "sleeper",
    command: "sleep",
    args: ["30"],
    ready: () => Promise.resolve(true),
  });
  assert.ok(isAlive(r.pid));
  assert.deepEqual(
    (await sup.list()).map((c) => [c.name, c.alive]),
    [["sleeper", true]],
  );
  await sup.stop("sleeper", 2000);
  assert.ok(!isAlive(r.pid));
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
