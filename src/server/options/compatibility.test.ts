import { test } from "node:test";
import assert from "node:assert/strict";
import { Command } from "@commander-js/extra-typings";
import { isKcmError } from "../../errors.ts";
import { validateCompatibility, withCompatibilityFlags } from "./compatibility.ts";

function parse(...argv: string[]) {
  const cmd = withCompatibilityFlags(new Command("serve"))
    .allowExcessArguments(true)
    .exitOverride();
  cmd.parse(argv, { from: "user" });
  return validateCompatibility(cmd.args, (key) => cmd.getOptionValueSource(key) === "cli");
}

test("klog's flags in both spellings and the apiserver's inert flags are accepted and named", () => {
  const c = parse(
    "--logtostderr",
    "--log_file=/x",
    "--log-flush-frequency=5s",
    "--profiling=false",
  );
  assert.deepEqual(c.inertFlags, [
    "--logtostderr",
    "--log_file",
    "--log-flush-frequency",
    "--profiling",
  ]);
  assert.equal(c.entrypointIgnored, false);
});

test("the upstream entrypoint is ignored; anything else is a usage error", () => {
  assert.equal(parse("/adapter").entrypointIgnored, true);
  assert.deepEqual(parse().inertFlags, []);
  for (const args of [["extra"], ["/adapter", "more"]]) {
    assert.throws(
      () => parse(...args),
      (e: unknown) =>
        isKcmError(e) &&
        e.code === "KCM_ERR_USAGE" &&
        e.message.startsWith(
          `unexpected arguments for 'serve': ${JSON.stringify(args)} (only /adapter`,
        ),
    );
  }
});
