import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ERRORS, KcmError } from "./errors.ts";

test("docs/errors.md lists exactly the catalog's codes, with their HTTP status", () => {
  const doc = readFileSync(new URL("../docs/errors.md", import.meta.url), "utf8");
  const rows = [...doc.matchAll(/^\| `(KCM_ERR_[A-Z_]+)` *\| (\d{3}) *\|/gm)].map((m) => [
    m[1],
    Number(m[2]),
  ]);
  const catalog = Object.entries(ERRORS).map(([code, spec]) => [code, spec.status]);
  assert.deepEqual(rows.sort(), catalog.sort());
});

test("an error renders as one line with its code and what to do next", () => {
  const e = new KcmError(
    "KCM_ERR_PORT_BUSY",
    "port 16443 (for kube-apiserver) on 127.0.0.1 is in use",
  );
  assert.equal(e.toLine().split("\n").length, 1);
  assert.match(e.toLine(), /^KCM_ERR_PORT_BUSY: port 16443 .* \(stop what listens there/);
});
