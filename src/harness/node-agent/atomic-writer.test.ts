import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { atomicWrite } from "./atomic-writer.ts";
import { tokenNeedsRefresh } from "./volumes.ts";

const file = (s: string, mode = 0o644) => ({ data: Buffer.from(s), mode });

test("the kubelet's layout: ..data swapped in one rename, names through it, stale names removed", () => {
  const dir = mkdtempSync(join(tmpdir(), "kcm-aw-"));
  assert.equal(
    atomicWrite(
      dir,
      new Map([
        ["config.yaml", file("a")],
        ["sub/x", file("x", 0o600)],
      ]),
    ),
    true,
  );
  assert.equal(readlinkSync(join(dir, "config.yaml")), "..data/config.yaml");
  assert.equal(readFileSync(join(dir, "config.yaml"), "utf8"), "a");
  assert.equal(statSync(join(dir, "sub", "x")).mode & 0o777, 0o600);
  const first = readlinkSync(join(dir, "..data"));
  assert.equal(
    atomicWrite(
      dir,
      new Map([
        ["config.yaml", file("a")],
        ["sub/x", file("x", 0o600)],
      ]),
    ),
    false,
    "unchanged",
  );
  assert.equal(atomicWrite(dir, new Map([["config.yaml", file("b")]])), true);
  assert.notEqual(readlinkSync(join(dir, "..data")), first);
  assert.equal(readFileSync(join(dir, "config.yaml"), "utf8"), "b");
  assert.deepEqual(
    readdirSync(dir).filter((e) => !e.startsWith("..")),
    ["config.yaml"],
  );
  assert.equal(readdirSync(dir).filter((e) => e.startsWith("..") && e !== "..data").length, 1);
});

test("tokens are refreshed after 80% of their lifetime or 24 h, as the kubelet does", () => {
  const t = { token: "t", issuedAt: 0, expiresAt: 3600_000 };
  assert.equal(tokenNeedsRefresh(undefined, 0), true);
  assert.equal(tokenNeedsRefresh(t, 2000_000), false);
  assert.equal(tokenNeedsRefresh(t, 2900_000), true);
  const long = { token: "t", issuedAt: 0, expiresAt: 48 * 3600_000 };
  assert.equal(tokenNeedsRefresh(long, 24 * 3600_000 + 1), true);
});
