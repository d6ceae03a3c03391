/**
 * @module harness/go-build
 * Upstream Go programs (prometheus-adapter, metrics-server) built once from the Go module proxy
 * for differential tests, benchmarks and `local up --adapter upstream`, and cached outside the repo in
 * `${XDG_CACHE_HOME:-~/.cache}/k8s-custom-metrics/<name>/<version>/<binary>`.
 *
 * First `go install <module>/<package>@<version>`; when that fails (a module proxy that refuses
 * the `@v/list` request `go install pkg@version` makes to look for deprecations answers 403, for
 * example) through a generated wrapper module that requires the version and `go build`s the
 * package. The binary is written to a temporary directory and renamed into place, so a
 * half-written one is never taken as built.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

export interface GoProgram {
  /** Cache folder name, e.g. `metrics-server`. */
  readonly name: string;
  /** Module path, e.g. `sigs.k8s.io/metrics-server`. */
  readonly module: string;
  /** The main package inside the module, e.g. `cmd/metrics-server`. */
  readonly pkg: string;
  readonly version: string;
  /** The installed binary's name (the package's last element). */
  readonly binary: string;
  /** The wrapper module's `go` line: at least the upstream go.mod's. */
  readonly goVersion: string;
}

export function cacheRoot(): string {
  const xdg = process.env["XDG_CACHE_HOME"];
  return join(
    xdg !== undefined && xdg !== "" ? xdg : join(homedir(), ".cache"),
    "k8s-custom-metrics",
  );
}

/** Where the binary lives (it may not exist yet). */
export function goBinaryPath(p: GoProgram): string {
  return join(cacheRoot(), p.name, p.version, p.binary);
}

/** Runs a command to its end: its exit code and the last 50 kB of its output, each line to `progress`. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string | undefined; env?: NodeJS.ProcessEnv | undefined },
  progress: (line: string) => void,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const onData = (d: Buffer) => {
      const s = d.toString();
      out = (out + s).slice(-50_000);
      for (const line of s.split("\n")) if (line.trim() !== "") progress(`  ${line.trim()}`);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => {
      resolve({ code: code ?? 1, out });
    });
  });
}

/**
 * The JSON object a `go … -json` command printed, from its combined output: lines the go command
 * writes to stderr before it (`go: downloading go1.27.3 (linux/amd64)` when GOTOOLCHAIN names a
 * toolchain not yet in the module cache) are skipped.
 */
export function goJson(out: string): unknown {
  const start = out.search(/^\{/m);
  if (start < 0) throw new Error(`no JSON object in the go command's output: ${out.slice(0, 300)}`);
  return JSON.parse(out.slice(start));
}

/**
 * Builds the program unless the cached binary exists; returns its path. Progress lines go to
 * `progress` (stderr by default): the first build takes minutes.
 */
export async function ensureGoBinary(
  p: GoProgram,
  progress: (line: string) => void = (l) => process.stderr.write(`[${p.name}] ${l}\n`),
): Promise<string> {
  const bin = goBinaryPath(p);
  if (existsSync(bin)) return bin;
  const dir = join(cacheRoot(), p.name, p.version);
  await mkdir(dir, { recursive: true });
  const t0 = Date.now();
  const elapsed = () => `(${String(Math.round((Date.now() - t0) / 1000))} s)`;
  const target = `${p.module}/${p.pkg}`;
  const gobin = await mkdtemp(join(dir, ".build-"));
  try {
    progress(`[1/2] go install ${target}@${p.version} (first run only)`);
    const env = { GOBIN: gobin, CGO_ENABLED: "0", GOFLAGS: "-mod=mod" };
    const install = await run("go", ["install", `${target}@${p.version}`], { env }, progress);
    if (install.code !== 0) {
      progress(`go install failed ${elapsed()}; [2/2] building through a wrapper module instead`);
      const work = await mkdtemp(join(tmpdir(), `kcm-${p.name}-`));
      try {
        await writeFile(
          join(work, "go.mod"),
          `module kcm-upstream-${p.name}\n\ngo ${p.goVersion}\n\nrequire ${p.module} ${p.version}\n`,
        );
        const build = await run(
          "go",
          ["build", "-o", join(gobin, p.binary), target],
          { cwd: work, env },
          progress,
        );
        if (build.code !== 0) {
          throw new Error(`building ${p.name} ${p.version} failed:\n${install.out}\n${build.out}`);
        }
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    }
    await rename(join(gobin, p.binary), bin);
    progress(`built ${bin} ${elapsed()}`);
  } finally {
    await rm(gobin, { recursive: true, force: true });
  }
  return bin;
}
