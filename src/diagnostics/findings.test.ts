import { test } from "node:test";
import assert from "node:assert/strict";
import {
  dedupeFindings,
  exitCodeFor,
  formatFinding,
  fromConfigIssue,
  sortFindings,
  type Finding,
} from "./findings.ts";

const w: Finding = {
  severity: "warning",
  check: "rate-window",
  file: "c.yaml",
  line: 3,
  col: 5,
  message: "w",
};
const e: Finding = {
  severity: "error",
  check: "config",
  file: "c.yaml",
  line: 3,
  col: 5,
  message: "e",
};

test("exit codes: 2 with errors, 1 with warnings only under --strict, else 0", () => {
  assert.equal(exitCodeFor([], false), 0);
  assert.equal(exitCodeFor([w], false), 0);
  assert.equal(exitCodeFor([w], true), 1);
  assert.equal(exitCodeFor([w, e], true), 2);
  assert.equal(exitCodeFor([e], false), 2);
});

test("loader issues keep their severity; none means error", () => {
  assert.equal(
    fromConfigIssue({ file: "c.yaml", line: 1, col: 1, message: "m" }).severity,
    "error",
  );
  assert.equal(
    fromConfigIssue({ file: "c.yaml", line: 1, col: 1, message: "m", severity: "warning" })
      .severity,
    "warning",
  );
});

test("findings print as file:line:col: severity: message, sorted by place, errors first", () => {
  assert.equal(formatFinding(w), "c.yaml:3:5: warning: w");
  assert.equal(formatFinding({ ...e, line: undefined, col: undefined }), "c.yaml: error: e");
  const unplaced = { ...w, line: undefined, col: undefined };
  assert.deepEqual(sortFindings([unplaced, w, e, { ...w, line: 1 }]).map(formatFinding), [
    "c.yaml:1:5: warning: w",
    "c.yaml:3:5: error: e",
    "c.yaml:3:5: warning: w",
    "c.yaml: warning: w",
  ]);
  assert.equal(dedupeFindings([w, { ...w }, e]).length, 2);
});
