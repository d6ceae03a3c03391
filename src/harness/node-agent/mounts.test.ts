import { test } from "node:test";
import assert from "node:assert/strict";
import { mountScript } from "./mounts.ts";

test("sources are opened before any mount, targets mounted parents first, read-only remounted", () => {
  const s = mountScript(
    [
      {
        source: "/state/pods/p/volumes/sa",
        target: "/var/run/secrets/kubernetes.io/serviceaccount",
        readOnly: true,
      },
      { source: "/state/pods/p/volumes/tmp", target: "/tmp", readOnly: false },
      { source: "/state/it's", target: "/etc/adapter", readOnly: false },
    ],
    "/app",
  );
  const lines = s.split("\n");
  const firstMount = lines.findIndex((l) => l.startsWith("mount "));
  const lastOpen = lines.map((l) => /^exec \d+<'/.test(l)).lastIndexOf(true);
  assert.ok(lastOpen < firstMount, s);
  // /tmp (depth 1) before /etc/adapter (2) before the service account (5).
  const order = lines.filter((l) => l.startsWith("mount --no")).map((l) => l.split(" ").at(-1));
  assert.deepEqual(order, [
    "'/tmp'",
    "'/etc/adapter'",
    "'/var/run/secrets/kubernetes.io/serviceaccount'",
  ]);
  assert.ok(
    lines.includes("mount -o remount,bind,ro '/var/run/secrets/kubernetes.io/serviceaccount'"),
  );
  assert.ok(s.includes(`exec 11<'/state/it'\\''s'`), "quoted");
  assert.deepEqual(lines.slice(-3), ["cd '/app'", 'exec "$@"', ""]);
});

test("a folder of the image under a volume's mountPath is bound back last", () => {
  const s = mountScript([{ source: "/state/tmp", target: "/tmp", readOnly: false }], "/tmp/clone", [
    "/tmp/clone",
    "/work/elsewhere",
  ]);
  const order = s
    .split("\n")
    .filter((l) => l.startsWith("mount --no"))
    .map((l) => l.split(" ").at(-1));
  assert.deepEqual(order, ["'/tmp'", "'/tmp/clone'"]);
  assert.ok(s.includes("exec 11<'/tmp/clone'"));
});
