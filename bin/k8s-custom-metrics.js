#!/usr/bin/env node
// Runs the compiled CLI when present (published package), else the TypeScript sources through tsx (a checkout).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const compiled = new URL("../dist/cli/main.js", import.meta.url);
if (existsSync(fileURLToPath(compiled))) {
  await import(compiled.href);
} else {
  await import("tsx/esm");
  await import(new URL("../src/cli/main.ts", import.meta.url).href);
}
