#!/usr/bin/env node
// Bundles the compiled CLI (DIST/cli/main.js, from tsc) into DIST/bundle/ with esbuild: `serve`
// then starts from a few files instead of ~300 modules and their package.json lookups, which took
// about 0.25 s of the adapter's start (issue #17 item 3). Code splitting keeps each subcommand's
// dynamic import lazy, as in dist/. bin/ uses the bundle for `serve` only: the harness finds
// repository files relative to its own module path, which a bundle moves.
//   node scripts/bundle.mjs [DIST]   (default: dist)
import { build } from "esbuild";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const dist = process.argv[2] ?? "dist";
await build({
  entryPoints: [join(dist, "cli/main.js")],
  outdir: join(dist, "bundle"),
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Function and class names stay as written: stack traces, profiles and error names read the same.
  keepNames: true,
  // Only the local harness uses it, and it is large; it stays a package import.
  external: ["@kubernetes/client-node"],
  // CommonJS dependencies (pino, prom-client) call require() for Node.js built-ins.
  banner: {
    js: "import { createRequire as __kcmCreateRequire } from 'node:module'; const require = __kcmCreateRequire(import.meta.url);",
  },
  // Packages come from this checkout's node_modules, wherever DIST is.
  nodePaths: [fileURLToPath(new URL("../node_modules", import.meta.url))],
  logLevel: "warning",
});
