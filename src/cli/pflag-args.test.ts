import { test } from "node:test";
import assert from "node:assert/strict";
import { Command, Option } from "@commander-js/extra-typings";
import { isKcmError } from "../errors.ts";
import { commandFor, pflagArgs } from "./pflag-args.ts";
import { serveCommand } from "./serve.ts";

function command(): Command {
  return new Command("x")
    .option("--insecure", "a boolean")
    .option("--config <file>", "a value")
    .option("-o, --output <format>", "a value with a short name")
    .option("--cache [bool]", "an optional value")
    .addOption(new Option("--v <level>"));
}

test("a boolean with Go's values: true keeps the flag, false leaves it out, the last use wins", () => {
  const c = command();
  assert.deepEqual(pflagArgs(c, ["--insecure=true"]), ["--insecure"]);
  assert.deepEqual(pflagArgs(c, ["--insecure=T", "a"]), ["--insecure", "a"]);
  assert.deepEqual(pflagArgs(c, ["--insecure=false"]), []);
  assert.deepEqual(pflagArgs(c, ["--insecure", "--insecure=0"]), []);
  assert.deepEqual(pflagArgs(c, ["--insecure=0", "--config=f", "--insecure"]), [
    "--config=f",
    "--insecure",
  ]);
  assert.throws(
    () => pflagArgs(c, ["--insecure=yes"]),
    (e: unknown) =>
      isKcmError(e) &&
      e.code === "KCM_ERR_USAGE" &&
      e.message === 'invalid argument "yes" for "--insecure" flag: expected true or false',
  );
});

test("values, optional values and what follows -- are left as they are", () => {
  const c = command();
  assert.deepEqual(pflagArgs(c, ["--config", "--insecure=false", "-o", "-v=1"]), [
    "--config",
    "--insecure=false",
    "-o",
    "-v=1",
  ]);
  assert.deepEqual(pflagArgs(c, ["--cache=false", "--", "--insecure=true"]), [
    "--cache=false",
    "--",
    "--insecure=true",
  ]);
});

test("klog's -v shorthand, where the command has --v and no -v of its own", () => {
  const c = command();
  assert.deepEqual(pflagArgs(c, ["-v=4"]), ["--v=4"]);
  assert.deepEqual(pflagArgs(c, ["-v4"]), ["--v=4"]);
  assert.deepEqual(pflagArgs(c, ["-v", "4", "--insecure"]), ["--v", "4", "--insecure"]);
  assert.deepEqual(pflagArgs(c, ["-v=", "--insecure"]), ["--v=", "--insecure"]);
  const own = new Command("y").option("-v, --verbose", "its own -v").option("--v <level>");
  assert.deepEqual(pflagArgs(own, ["-v"]), ["-v"]);
  assert.deepEqual(pflagArgs(new Command("z"), ["-v=4"]), ["-v=4"]);
});

test("commandFor finds the deepest subcommand named", () => {
  const program = new Command("p");
  const local = program.command("local");
  const up = local.command("up");
  assert.deepEqual(commandFor(program, ["local", "up", "--x"]), { command: up, at: 2 });
  assert.deepEqual(commandFor(program, ["local", "--x"]), { command: local, at: 1 });
  assert.deepEqual(commandFor(program, ["--help"]), { command: program, at: 0 });
});

test("serve takes a prometheus-adapter / metrics-server command line with Go spellings", () => {
  const serve = serveCommand();
  serve.exitOverride().action(() => undefined);
  const args = [
    "--kubelet-insecure-tls=true",
    "--authentication-skip-lookup=false",
    "--disable-http2=true",
    "--logtostderr=true",
    "-v=6",
    "--tls-cipher-suites=TLS_AES_128_GCM_SHA256",
    "--tls-cipher-suites=TLS_AES_256_GCM_SHA384",
  ];
  serve.parse(pflagArgs(serve, args), { from: "user" });
  const o = serve.opts() as Record<string, unknown>;
  assert.equal(o["kubeletInsecureTls"], true);
  assert.equal(o["authenticationSkipLookup"], false);
  assert.equal(o["disableHttp2"], true);
  assert.equal(o["v"], 6);
  assert.deepEqual(o["tlsCipherSuites"], ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]);
});
