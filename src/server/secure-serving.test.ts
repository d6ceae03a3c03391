import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureSelfSigned } from "./secure-serving.ts";

test("a self-signed certificate is written into a --cert-dir that does not exist yet", async () => {
  const dir = await mkdtemp(join(tmpdir(), "kcm-cert-dir-"));
  try {
    const certDir = join(dir, "a", "b");
    const { certFile, keyFile } = await ensureSelfSigned(certDir, ["127.0.0.1", "localhost"]);
    assert.ok(existsSync(certFile) && existsSync(keyFile));
    assert.equal(certFile, join(certDir, "apiserver.crt"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test(
  "a --cert-dir under /proc fails at once (Node's recursive mkdir never returns there)",
  { skip: !existsSync("/proc/self"), timeout: 10_000 },
  async () => {
    await assert.rejects(ensureSelfSigned("/proc/kcm-no-such/dir", ["127.0.0.1"]), {
      code: "ENOENT",
    });
  },
);
