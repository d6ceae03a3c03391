/**
 * @module harness/image-entrypoint.test
 * The image's node flags: parsed from an exec-form ENTRYPOINT, a missing one refused, and this
 * checkout's Dockerfile read as it is.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { entrypointNodeFlags, imageNodeFlags } from "./image-entrypoint.ts";

test("the flags between node and the script", () => {
  assert.deepEqual(
    entrypointNodeFlags(
      'FROM x\nENTRYPOINT ["/nodejs/bin/node", "--single-threaded-gc", "--a=1", "/app/bin/k.js", "serve", "--b"]\n',
    ),
    ["--single-threaded-gc", "--a=1"],
  );
  assert.deepEqual(entrypointNodeFlags('ENTRYPOINT ["node", "/app/bin/k.js"]'), []);
});

test("no exec-form ENTRYPOINT: refused", () => {
  assert.throws(() => entrypointNodeFlags("FROM x\nENTRYPOINT node /app/bin/k.js\n"), /ENTRYPOINT/);
  assert.throws(() => entrypointNodeFlags("FROM x\n"), /ENTRYPOINT/);
});

test("this checkout's Dockerfile: the image collects garbage on its main thread", () => {
  assert.ok(imageNodeFlags().includes("--single-threaded-gc"), String(imageNodeFlags()));
  assert.deepEqual(imageNodeFlags("/nonexistent/Dockerfile"), []);
});
