/**
 * The layering docs/architecture.md states, checked on the imports of src/ (tests aside): the
 * serve path's layers import only layers below them; edges (clients, auth, logging, the error
 * catalog) import only edges and apimachinery; and nothing on the serve path imports the tools
 * (diagnostics, compare, the local cluster).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = dirname(fileURLToPath(import.meta.url));

/** The serve path, top to bottom; folders on one line share a rank. */
const LAYERS: readonly (readonly string[])[] = [
  ["cli"],
  ["server/builders"],
  ["server/options"],
  ["server"],
  ["apis"],
  ["providers/resource"],
  ["providers/prometheus"],
  ["providers"],
  ["config"],
  ["naming", "template", "promql"],
  ["apimachinery"],
];
const EDGES = ["kube", "auth", "http", "prometheus", "observability", "pki", "errors.ts"];
const TOOLS = ["diagnostics", "compare", "hpa", "harness", "demo-app"];

/** A file's unit: `server/builders` and `providers/x` are their own, else the top folder. */
function unitOf(file: string): string {
  const parts = file.split("/");
  const [top = "", sub] = parts;
  if (parts.length > 2 && (top === "server" || top === "providers") && sub !== undefined) {
    return `${top}/${sub}`;
  }
  return top;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "fixtures" ? [] : sources(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [p] : [];
  });
}

function imports(): { from: string; to: string; file: string }[] {
  const out: { from: string; to: string; file: string }[] = [];
  for (const path of sources(SRC)) {
    const file = relative(SRC, path);
    for (const m of readFileSync(path, "utf8").matchAll(
      /(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g,
    )) {
      const target = normalize(join(dirname(file), m[1] ?? ""));
      const from = unitOf(file);
      const to = unitOf(target);
      if (from !== to) out.push({ from, to, file });
    }
  }
  return out;
}

const rank = new Map(LAYERS.flatMap((units, i) => units.map((u) => [u, i] as const)));

describe("layering (docs/architecture.md)", () => {
  const all = imports();

  it("finds the imports it checks", () => {
    assert.ok(all.length > 100, `only ${String(all.length)} cross-folder imports found`);
  });

  it("every folder of src/ is placed", () => {
    const placed = new Set([...rank.keys(), ...EDGES, ...TOOLS]);
    const unplaced = [...new Set(all.flatMap((i) => [i.from, i.to]))].filter((u) => !placed.has(u));
    assert.deepEqual(unplaced, []);
  });

  it("the serve path imports only layers below it", () => {
    const upward = all.filter((i) => {
      const a = rank.get(i.from);
      const b = rank.get(i.to);
      return a !== undefined && b !== undefined && a >= b;
    });
    assert.deepEqual(
      upward.map((i) => `${i.file} → ${i.to}`),
      [],
    );
  });

  it("edges import only edges and apimachinery", () => {
    const bad = all.filter(
      (i) => EDGES.includes(i.from) && !EDGES.includes(i.to) && i.to !== "apimachinery",
    );
    assert.deepEqual(
      bad.map((i) => `${i.file} → ${i.to}`),
      [],
    );
  });

  it("only the CLI and the tools import the tools", () => {
    const bad = all.filter(
      (i) => TOOLS.includes(i.to) && i.from !== "cli" && !TOOLS.includes(i.from),
    );
    assert.deepEqual(
      bad.map((i) => `${i.file} → ${i.to}`),
      [],
    );
  });
});
