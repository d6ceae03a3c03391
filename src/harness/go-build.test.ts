/**
 * @module harness/go-build.test
 * Reading `go … -json` output that the go command prefixed with its own progress lines.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { goJson } from "./go-build.ts";

test("goJson skips the go command's own lines before the object (a toolchain download)", () => {
  // As CI printed it on a machine without the toolchain GOTOOLCHAIN names.
  const out = [
    "go: downloading go1.27.3 (linux/amd64)",
    "{",
    '\t"Path": "github.com/thanos-io/thanos",',
    '\t"Version": "v0.42.5",',
    '\t"GoMod": "/root/go/pkg/mod/cache/download/github.com/thanos-io/thanos/@v/v0.42.5.mod"',
    "}",
    "",
  ].join("\n");
  assert.deepEqual(goJson(out), {
    Path: "github.com/thanos-io/thanos",
    Version: "v0.42.5",
    GoMod: "/root/go/pkg/mod/cache/download/github.com/thanos-io/thanos/@v/v0.42.5.mod",
  });
  assert.deepEqual(goJson('{"Path": "x"}'), { Path: "x" });
  assert.throws(() => goJson("go: downloading go1.27.3 (linux/amd64)\n"), /no JSON object/);
});
