/**
 * @module harness/node-agent/atomic-writer
 * A volume's files written as the kubelet writes ConfigMap, Secret, projected and downward API
 * volumes (pkg/volume/util/atomic_writer.go): the payload lives in a timestamped directory,
 * `..data` is a symlink to it, and each top-level name is a symlink through `..data`. An update
 * writes a new directory and swaps `..data` with one rename, so a reader never sees half an update
 * (the adapter's config reload watches for exactly this swap).
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";

export interface PayloadFile {
  readonly data: Buffer;
  readonly mode: number;
}

/** Relative path → content. Paths are validated by the API server (no `..`, not absolute). */
export type Payload = ReadonlyMap<string, PayloadFile>;

function samePayload(dir: string, payload: Payload): boolean {
  const link = join(dir, "..data");
  if (!existsSync(link)) return false;
  const current = join(dir, readlinkSync(link));
  const names = new Set<string>();
  const walk = (d: string, prefix: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), rel);
      else names.add(rel);
    }
  };
  walk(current, "");
  if (names.size !== payload.size) return false;
  for (const [path, f] of payload) {
    if (!names.has(path)) return false;
    if (!readFileSync(join(current, path)).equals(f.data)) return false;
  }
  return true;
}

/** Writes `payload` into `dir`; returns whether anything changed. */
export function atomicWrite(dir: string, payload: Payload): boolean {
  mkdirSync(dir, { recursive: true });
  if (samePayload(dir, payload)) return false;
  const stamp = new Date().toISOString().replace(/[-:]/g, "_").replace("T", "_").replace("Z", "");
  const ts = `..${stamp}.${String(process.hrtime.bigint() % 1_000_000n)}`;
  const tsDir = join(dir, ts);
  mkdirSync(tsDir);
  for (const [path, f] of payload) {
    const file = join(tsDir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, f.data, { mode: f.mode });
  }
  const link = join(dir, "..data");
  const tmp = join(dir, "..data_tmp");
  rmSync(tmp, { force: true });
  symlinkSync(ts, tmp);
  renameSync(tmp, link);
  const tops = new Set([...payload.keys()].map((p) => p.split("/")[0] ?? p));
  for (const top of tops) {
    const visible = join(dir, top);
    if (!existsSync(visible)) symlinkSync(join("..data", top), visible);
  }
  // Names the new payload no longer has, and the previous timestamped directory.
  for (const e of readdirSync(dir)) {
    if (e.startsWith("..")) {
      if (e !== ts && e !== "..data") rmSync(join(dir, e), { recursive: true, force: true });
    } else if (!tops.has(e)) {
      rmSync(join(dir, e), { recursive: true, force: true });
    }
  }
  return true;
}
