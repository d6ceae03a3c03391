/**
 * @module test/support/helm
 * Helm v4, built once from the Go module proxy (`go install helm.sh/helm/v4/cmd/helm@v4.3.2`, or
 * a wrapper module, src/harness/go-build.ts) into
 * `${XDG_CACHE_HOME:-~/.cache}/k8s-custom-metrics/helm/v4.3.2/helm`, for the chart tests. Never
 * committed; the first build takes a few minutes on 2 cores.
 *
 * {@link runHelm} runs it with its own config, cache and data directories under the cache folder,
 * so a test neither reads nor writes the user's `~/.config/helm` (repositories, plugins).
 */
import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  cacheRoot,
  ensureGoBinary,
  goBinaryPath,
  type GoProgram,
} from "../../src/harness/go-build.ts";

export const HELM_VERSION = "v4.3.2";

const PROGRAM: GoProgram = {
  name: "helm",
  module: "helm.sh/helm/v4",
  pkg: "cmd/helm",
  version: HELM_VERSION,
  binary: "helm",
  // helm v4.3.2's go.mod says `go 1.26.0`.
  goVersion: "1.26.0",
};

/** Where the binary lives (it may not exist yet). */
export function helmBinaryPath(): string {
  return goBinaryPath(PROGRAM);
}

let building: Promise<string> | undefined;

/** Builds helm unless it is cached; returns the binary's path. One build per process. */
export function helmBinary(progress?: (line: string) => void): Promise<string> {
  building ??= ensureGoBinary(PROGRAM, progress).catch((e: unknown) => {
    building = undefined;
    throw e;
  });
  return building;
}

export interface HelmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Helm's own state (config, cache, data) for tests, away from the user's. */
async function helmEnv(): Promise<NodeJS.ProcessEnv> {
  const home = join(cacheRoot(), "helm", HELM_VERSION, "home");
  const env = {
    HELM_CONFIG_HOME: join(home, "config"),
    HELM_CACHE_HOME: join(home, "cache"),
    HELM_DATA_HOME: join(home, "data"),
  };
  await Promise.all(Object.values(env).map((d) => mkdir(d, { recursive: true })));
  return env;
}

export interface RunHelmOptions {
  /** Extra environment, e.g. `KUBECONFIG`. */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Written to helm's standard input (e.g. `-f -`). */
  readonly input?: string;
  /** Killed after this long (default 120 s); the result then says so in stderr. */
  readonly timeoutMs?: number;
}

/** Runs `helm args…` (built on demand) and collects its output; never throws for a non-zero exit. */
export async function runHelm(
  args: readonly string[],
  o: RunHelmOptions = {},
): Promise<HelmResult> {
  const bin = await helmBinary();
  const env = { ...process.env, ...(await helmEnv()), ...o.env };
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: o.cwd,
      env,
      stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n(helm ${args.join(" ")} killed after ${String(o.timeoutMs ?? 120_000)} ms)`;
      child.kill("SIGKILL");
    }, o.timeoutMs ?? 120_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    if (o.input !== undefined) child.stdin?.end(o.input);
  });
}
