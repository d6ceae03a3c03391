import assert from "node:assert/strict";
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Writable } from "node:stream";
import { createLogger, silentLogger } from "../observability/logger.ts";
import { ConfigError } from "./errors.ts";
import { watchConfig } from "./watch.ts";

/** A folder laid out as kubelet lays out a ConfigMap volume: config.yaml → ..data/config.yaml. */
async function configMapVolume(text: string) {
  const dir = await mkdtemp(join(tmpdir(), "kcm-watch-"));
  let n = 0;
  const publish = async (t: string) => {
    const ts = join(dir, `..2026_${String(n++)}`);
    await mkdir(ts);
    await writeFile(join(ts, "config.yaml"), t);
    // Atomic swap of ..data, as the kubelet's AtomicWriter does.
    await symlink(ts, join(dir, "..data_tmp"));
    await rename(join(dir, "..data_tmp"), join(dir, "..data"));
  };
  await publish(text);
  await symlink(join("..data", "config.yaml"), join(dir, "config.yaml"));
  return { dir, path: join(dir, "config.yaml"), publish };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe("watchConfig", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  test("a ConfigMap symlink swap reloads; a bad file keeps the last good config", async () => {
    const vol = await configMapVolume("a");
    dirs.push(vol.dir);
    const applied: string[] = [];
    const outcomes: boolean[] = [];
    const w = watchConfig({
      path: vol.path,
      initialText: "a",
      load: (t) => {
        if (t.startsWith("bad"))
          throw new ConfigError([{ file: vol.path, line: 1, col: 1, message: "bad" }]);
        return t;
      },
      apply: (c) => {
        applied.push(c);
      },
      log: silentLogger(),
      onReload: (ok) => outcomes.push(ok),
      debounceMs: 20,
      pollMs: 0,
    });
    try {
      await vol.publish("b");
      await until("reload of b", () => applied.includes("b"));
      await vol.publish("bad one");
      await until("the failed reload", () => outcomes.includes(false));
      assert.deepEqual(applied, ["b"]);
      await vol.publish("c");
      await until("reload of c", () => applied.includes("c"));
      assert.deepEqual(applied, ["b", "c"]);
    } finally {
      w.close();
    }
  });

  test("reload() re-reads on demand (SIGHUP); an unchanged file applies nothing", async () => {
    const vol = await configMapVolume("x");
    dirs.push(vol.dir);
    const applied: string[] = [];
    const w = watchConfig({
      path: vol.path,
      initialText: "x",
      load: (t) => t,
      apply: (c) => {
        applied.push(c);
      },
      log: silentLogger(),
      debounceMs: 10_000,
      pollMs: 0,
    });
    try {
      assert.equal(await w.reload("SIGHUP"), true);
      assert.deepEqual(applied, []);
      await writeFile(join(vol.dir, "..data", "config.yaml"), "y");
      assert.equal(await w.reload("SIGHUP"), true);
      assert.deepEqual(applied, ["y"]);
    } finally {
      w.close();
    }
  });

  test("a file refused before parsing (UTF-16) is a reload error, not a passing read failure", async () => {
    const vol = await configMapVolume("x");
    dirs.push(vol.dir);
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
        done();
      },
    });
    const w = watchConfig({
      path: vol.path,
      initialText: "x",
      load: (t) => t,
      apply: () => undefined,
      log: createLogger(0, sink),
      debounceMs: 10_000,
      pollMs: 0,
    });
    try {
      await writeFile(
        join(vol.dir, "..data", "config.yaml"),
        Buffer.from("\ufeffrules: []", "utf16le"),
      );
      assert.equal(await w.reload("SIGHUP"), false);
      const error = lines.find((l) => l.level === 50);
      assert.ok(error, JSON.stringify(lines));
      assert.match(error.msg, /keeping the last good config:\n.*UTF-16 text; save it as UTF-8/);
    } finally {
      w.close();
    }
  });

  test("a config that fails to apply is not taken as the running one", async () => {
    const vol = await configMapVolume("1");
    dirs.push(vol.dir);
    let fail = true;
    const applied: string[] = [];
    const w = watchConfig({
      path: vol.path,
      initialText: "1",
      load: (t) => t,
      apply: (c) => {
        if (fail) throw new Error("cannot apply");
        applied.push(c);
      },
      log: silentLogger(),
      debounceMs: 10_000,
      pollMs: 0,
    });
    try {
      await writeFile(join(vol.dir, "..data", "config.yaml"), "2");
      assert.equal(await w.reload("SIGHUP"), false);
      fail = false;
      // Same text again: still applied, since it never became the running config.
      assert.equal(await w.reload("SIGHUP"), true);
      assert.deepEqual(applied, ["2"]);
    } finally {
      w.close();
    }
  });
});
