/**
 * @module cli/main
 * The `k8s-custom-metrics` command.
 */
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { isKcmError, KcmError } from "../errors.ts";
import { commandFor, pflagArgs } from "./pflag-args.ts";

// A reader that went away (`… | head -3`) is not an error: end quietly with 0, as git and kubectl
// do, instead of an unhandled 'error' event and its stack. ECONNRESET is the same when our output
// is a socket (a parent process's pipe) closed with unread data in it.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE" || e.code === "ECONNRESET") process.exit(0);
    throw e;
  });
}

function hostPort(v: string): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(v);
  if (!m) throw new InvalidArgumentError("expected HOST:PORT");
  return { host: m[1] ?? "", port: Number(m[2]) };
}

const program = new Command("k8s-custom-metrics")
  .description("Kubernetes custom, external and resource metrics APIs from Prometheus")
  .version("0.1.0")
  .showHelpAfterError("(run k8s-custom-metrics --help to see its commands)");

// Only the subcommand being run is loaded (`serve` starts without the harness and the demo app);
// anything else (help, a typo) gets the whole program, so its help and errors are unchanged.
const only = ["serve", "local", "demo-app", "validate", "doctor", "explain", "compare"].find(
  (name) => name === process.argv[2],
);
const needs = (name: string) => only === undefined || only === name;

if (needs("serve")) program.addCommand((await import("./serve.ts")).serveCommand());
if (needs("local")) program.addCommand((await import("./local.ts")).localCommand());
if (needs("validate")) program.addCommand((await import("./validate.ts")).validateCommand());
if (needs("doctor")) program.addCommand((await import("./doctor.ts")).doctorCommand());
if (needs("explain")) program.addCommand((await import("./explain.ts")).explainCommand());
if (needs("compare")) program.addCommand((await import("./compare.ts")).compareCommand());

if (needs("demo-app"))
  program
    .command("demo-app")
    .description(
      "run the demo workload: HTTP server with Prometheus metrics (used as a pod's process)",
    )
    .addOption(
      new Option("--listen <host:port>", "address to listen on")
        .argParser(hostPort)
        .default({ host: "127.0.0.1", port: 8080 }, "127.0.0.1:8080"),
    )
    .action(async (o) => {
      const { runDemoApp } = await import("../demo-app/server.ts");
      await runDemoApp(o.listen);
    });

/** The command line with Go programs' spellings (`--flag=false`, klog's `-v=4`) made commander's. */
function commanderArgs(argv: readonly string[]): string[] {
  const { command, at } = commandFor(program, argv);
  try {
    return [...argv.slice(0, at), ...pflagArgs(command, argv.slice(at))];
  } catch (e) {
    // A usage error as commander's own: the command's exit code for it (compare, validate: 2).
    if (!isKcmError(e) || e.code !== "KCM_ERR_USAGE") throw e;
    return command.error(`error: ${e.message}`);
  }
}

try {
  await program.parseAsync(commanderArgs(process.argv.slice(2)), { from: "user" });
} catch (e) {
  // Every error ends as a catalog error (src/errors.ts, docs/errors.md): its code and what to do
  // next, then exit 1. One the catalog does not name is a bug: KCM_ERR_INTERNAL.
  const error = isKcmError(e)
    ? e
    : new KcmError("KCM_ERR_INTERNAL", e instanceof Error ? `${e.name}: ${e.message}` : String(e), {
        cause: e,
      });
  process.stderr.write(`error: ${error.toLine()}\n`);
  if (error.code === "KCM_ERR_INTERNAL" && process.env["K8SCM_DEBUG"] && e instanceof Error) {
    process.stderr.write(`${e.stack ?? ""}\n`);
  }
  // validate's exit 1 means "warnings under --strict": anything that stops it is 2, as its errors.
  process.exit(only === "validate" ? 2 : 1);
}
