/**
 * @module harness/image-entrypoint
 * The node flags of our image's entrypoint (the Dockerfile's `ENTRYPOINT`), so that whatever runs
 * the adapter as the image does (the node agent's pods, the benchmark) passes them too. They are
 * on the command line because they cannot be anywhere else: Node.js refuses V8's garbage
 * collector flags in NODE_OPTIONS, and setting them once V8 runs aborts the process.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const DOCKERFILE = join(resolve(fileURLToPath(new URL("../..", import.meta.url))), "Dockerfile");

/**
 * The flags between `node` and the script in a Dockerfile's exec-form `ENTRYPOINT`; throws when
 * the text has no such line (the image would not start as this module assumes).
 *
 * @example
 * entrypointNodeFlags('ENTRYPOINT ["/nodejs/bin/node", "--single-threaded-gc", "/app/bin/x.js", "serve"]')
 * // → ["--single-threaded-gc"]
 */
export function entrypointNodeFlags(dockerfile: string): string[] {
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
  const argv = line === undefined ? undefined : (JSON.parse(line) as unknown);
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === "string")) {
    throw new Error('Dockerfile: no exec-form ENTRYPOINT ["node", …] line');
  }
  const flags: string[] = [];
  for (const a of argv.slice(1)) {
    if (!a.startsWith("-")) break;
    flags.push(a);
  }
  return flags;
}

/** The image's node flags, from this checkout's Dockerfile; none where there is no Dockerfile. */
export function imageNodeFlags(dockerfile = DOCKERFILE): string[] {
  return existsSync(dockerfile) ? entrypointNodeFlags(readFileSync(dockerfile, "utf8")) : [];
}
