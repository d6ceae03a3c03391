/**
 * @module cli/pflag-args
 * Command lines written for Go programs (prometheus-adapter, metrics-server: spf13/pflag) spell
 * two things commander does not take: a boolean flag with a value (`--kubelet-insecure-tls=true`,
 * `--authentication-skip-lookup=false`) and klog's `-v` shorthand (`-v=4`, `-v4`, `-v 4`). These
 * are rewritten to commander's spelling before it parses; everything else is left for it.
 * Mirrors pflag's flag.go (parseLongArg with NoOptDefVal, parseSingleShortArg).
 */
import type { CommandUnknownOpts, Option } from "@commander-js/extra-typings";
import { KcmError } from "../errors.ts";

/** Go's strconv.ParseBool spellings. */
const GO_BOOL = new Map<string, boolean>([
  ...["1", "t", "T", "true", "TRUE", "True"].map((s) => [s, true] as const),
  ...["0", "f", "F", "false", "FALSE", "False"].map((s) => [s, false] as const),
]);

type AnyOption = Option<string, unknown, unknown, unknown, boolean, unknown>;

/** A flag without a value (`--disable-http2`): true when given. */
function isPlainBoolean(o: AnyOption): boolean {
  return !o.required && !o.optional && !o.negate;
}

/** The deepest subcommand `args` name, and the arguments after its name. */
export function commandFor(
  program: CommandUnknownOpts,
  args: readonly string[],
): { command: CommandUnknownOpts; at: number } {
  let command = program;
  let at = 0;
  for (;;) {
    const name = args[at];
    const sub = command.commands.find((c) => c.name() === name || c.aliases().includes(name ?? ""));
    if (sub === undefined) return { command, at };
    command = sub;
    at += 1;
  }
}

/**
 * `args` (a command's own arguments) with pflag's spellings rewritten. A boolean's last use wins,
 * as in pflag: `--x --x=false` is false (the flag is left out), `--x=false --x` true.
 */
export function pflagArgs(command: CommandUnknownOpts, args: readonly string[]): string[] {
  const options = command.options as readonly AnyOption[];
  const booleans = new Set(
    options.filter(isPlainBoolean).flatMap((o) => (o.long === undefined ? [] : [o.long])),
  );
  const withValue = new Set(
    options.filter((o) => o.required).flatMap((o) => [o.long, o.short].filter((f) => f != null)),
  );
  const klogV = options.some((o) => o.long === "--v") && !options.some((o) => o.short === "-v");

  const out: (string | { readonly flag: string })[] = [];
  const last = new Map<string, { index: number; value: boolean }>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (withValue.has(a)) {
      // `--config FILE`: the next argument is a value, whatever it looks like.
      out.push(a, ...args.slice(i + 1, i + 2));
      i += 1;
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (booleans.has(name)) {
      const value = eq > 0 ? GO_BOOL.get(a.slice(eq + 1)) : true;
      if (value === undefined) {
        throw new KcmError(
          "KCM_ERR_USAGE",
          `invalid argument ${JSON.stringify(a.slice(eq + 1))} for "${name}" flag: expected true or false`,
        );
      }
      last.set(name, { index: out.length, value });
      out.push({ flag: name });
      continue;
    }
    if (klogV && a === "-v") {
      // `-v 4`: the next argument is the level.
      out.push("--v", ...args.slice(i + 1, i + 2));
      i += 1;
      continue;
    }
    if (klogV && a.startsWith("-v")) {
      // `-v=4`, `-v4`; `-v=` is an empty level, which --v refuses.
      out.push(`--v=${a.slice(a[2] === "=" ? 3 : 2)}`);
      continue;
    }
    out.push(a);
  }
  return out.flatMap((x, index) => {
    if (typeof x === "string") return [x];
    const final = last.get(x.flag);
    return final?.index === index && final.value ? [x.flag] : [];
  });
}
