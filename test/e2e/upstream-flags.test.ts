/**
 * @module test/upstream-flags
 * Every flag prometheus-adapter v0.12.0 lists in its own `--help` (the real binary's) is taken by
 * `serve`, as a Go command line spells it (a boolean as `--flag=true`, `--flag=false`, `--flag`),
 * except those docs/flags.md names under "Not supported".
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { pflagArgs } from "../../src/cli/pflag-args.ts";
import { serveCommand } from "../../src/cli/serve.ts";
import { ensureUpstreamAdapter } from "../support/upstream-adapter.ts";

const exec = promisify(execFile);

/** A value of each pflag type `--help` names; a flag without a type is a boolean. */
const SAMPLE: Readonly<Record<string, string>> = {
  string: "/tmp/x",
  duration: "30s",
  int: "1",
  ip: "127.0.0.1",
  strings: "a",
  float32: "1",
  Level: "2",
  namedCertKey: "/tmp/c,/tmp/k",
  moduleSpec: "x=1",
  stringArray: "A=b",
};

/** Flags whose values are checked against a fixed set. */
const VALUE: Readonly<Record<string, string>> = { "--prometheus-verb": "GET" };

/** What upstream's `--help` lists: `--name` and its pflag type (undefined: a boolean). */
async function upstreamFlags(): Promise<{ flag: string; type: string | undefined }[]> {
  const bin = await ensureUpstreamAdapter();
  // pflag prints the usage and exits 0 (--help) or 2 (older flag sets); both print the list.
  const help = await exec(bin, ["--help"]).then(
    (r) => r.stdout + r.stderr,
    (e: unknown) => {
      const { stdout = "", stderr = "" } = e as { stdout?: string; stderr?: string };
      return stdout + stderr;
    },
  );
  const out: { flag: string; type: string | undefined }[] = [];
  for (const line of help.split("\n")) {
    const m = /^\s+(?:-\w, )?(--[\w-]+)(?: (\w+))?/.exec(line);
    if (!m?.[1] || m[1] === "--help") continue;
    const type = m[2] !== undefined && m[2] in SAMPLE ? m[2] : undefined;
    out.push({ flag: m[1], type });
  }
  return out;
}

/** The flags docs/flags.md's "Not supported" section names (`--audit-*` as a prefix). */
async function notSupported(): Promise<(flag: string) => boolean> {
  const doc = await readFile(new URL("../../docs/flags.md", import.meta.url), "utf8");
  // The section's list, before what it says instead ("the adapter stops …").
  const section = doc.split("## Not supported")[1]?.split("the adapter stops")[0] ?? "";
  const named = [...section.matchAll(/`(--[\w-]+\*?)`/g)].map((m) => m[1] ?? "");
  return (flag) =>
    named.some((n) => (n.endsWith("*") ? flag.startsWith(n.slice(0, -1)) : flag === n));
}

function refusal(args: string[]): string | undefined {
  const serve = serveCommand();
  serve
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .action(() => undefined);
  try {
    serve.parse(pflagArgs(serve, args), { from: "user" });
    return undefined;
  } catch (e) {
    return (e as Error).message.split("\n")[0];
  }
}

test("serve takes every flag of prometheus-adapter v0.12.0's --help, but those named not supported", async () => {
  const flags = await upstreamFlags();
  // The list is upstream's whole: the generic apiserver's groups as well as the adapter's.
  assert.ok(flags.length >= 70, `only ${String(flags.length)} flags in upstream's --help`);
  const unsupported = await notSupported();
  const refused: string[] = [];
  const accepted: string[] = [];
  for (const { flag, type } of flags) {
    const forms =
      type === undefined
        ? [flag, `${flag}=true`, `${flag}=false`]
        : [`${flag}=${VALUE[flag] ?? SAMPLE[type] ?? ""}`];
    const why = forms.map((f) => refusal([f])).find((r) => r !== undefined);
    if (unsupported(flag)) {
      if (why === undefined) accepted.push(flag);
    } else if (why !== undefined) {
      refused.push(`${flag}: ${why}`);
    }
  }
  assert.deepEqual(refused, [], "refused, though docs/flags.md does not say so");
  assert.deepEqual(accepted, [], "listed as not supported in docs/flags.md, yet accepted");
});
