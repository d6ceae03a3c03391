import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidArgumentError } from "@commander-js/extra-typings";
import { seconds } from "./options.ts";

test("seconds: a Go duration or a bare number, whole seconds within bounds", () => {
  const parse = seconds(1, 60);
  assert.equal(parse("5"), 5);
  assert.equal(parse("15s"), 15);
  assert.equal(parse("1m"), 60);
  for (const bad of ["0", "61", "1500ms", "2m", "x"]) {
    assert.throws(() => parse(bad), InvalidArgumentError, bad);
  }
});
