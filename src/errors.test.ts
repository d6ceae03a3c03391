import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ERRORS, KcmError } from "./errors.ts";
import { ConfigError } from "./config/errors.ts";

test("docs/errors.md lists exactly the catalog's codes", () => {
  const doc = readFileSync(new URL("../docs/errors.md", import.meta.url), "utf8");
  const rows = [...doc.matchAll(/^\| `(KCM_ERR_[A-Z_]+)` *\|/gm)].map((m) => m[1]);
  assert.deepEqual(rows.sort(), Object.keys(ERRORS).sort());
});

test("every code has a hint saying what to do next", () => {
  for (const [code, spec] of Object.entries(ERRORS)) {
    assert.ok(spec.hint.length > 10, code);
  }
});

test("an error renders as one line with its code and what to do next", () => {
  const e = new KcmError(
    "KCM_ERR_PORT_BUSY",
    "port 16443 (for kube-apiserver) on 127.0.0.1 is in use",
  );
  assert.equal(e.toLine().split("\n").length, 1);
  assert.match(e.toLine(), /^KCM_ERR_PORT_BUSY: port 16443 .* \(stop what listens there/);
});

test("a config error is a catalog error: one file:line:col line per issue, no extra hint", () => {
  const e = new ConfigError([
    { file: "c.yaml", line: 3, col: 5, message: 'unknown key "bogus"; remove it' },
    { file: "c.yaml", message: "cannot read the config file (ENOENT); check the --config path" },
  ]);
  assert.ok(e instanceof KcmError);
  assert.equal(e.code, "KCM_ERR_CONFIG");
  assert.equal(
    e.toLine(),
    'KCM_ERR_CONFIG: c.yaml:3:5: unknown key "bogus"; remove it\nc.yaml: cannot read the config file (ENOENT); check the --config path',
  );
});
