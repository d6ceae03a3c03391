#!/usr/bin/env node
// Runs the compiled CLI when present (published package), else the TypeScript sources through tsx (a checkout).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";

// WebAssembly stays on V8's baseline compiler (Liftoff). The only module is undici's HTTP parser
// (the Prometheus client); optimizing its one huge function took about 35 MB for a moment, the
// largest peak of an idle adapter, for no measurable gain in speed. Read when a module compiles,
// so setting it here, before anything is loaded, is in time.
setFlagsFromString("--no-wasm-tier-up");
setFlagsFromString("--no-wasm-dynamic-tiering");

const compiled = new URL("../dist/cli/main.js", import.meta.url);
// `serve` starts from the bundle (scripts/bundle.mjs): a quarter second sooner than from dist/.
const bundled = new URL("../dist/bundle/main.js", import.meta.url);
if (process.argv[2] === "serve" && existsSync(fileURLToPath(bundled))) {
  await import(bundled.href);
} else if (existsSync(fileURLToPath(compiled))) {
  await import(compiled.href);
} else {
  await import("tsx/esm");
  await import(new URL("../src/cli/main.ts", import.meta.url).href);
}
