/**
 * @module harness/kube-binaries
 * Real kube-apiserver and kube-controller-manager, built from the Go module proxy.
 *
 * k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local folders;
 * a consumer's build ignores those replaces. A generated wrapper module pins each staging module
 * to its published v0.X.Y tag instead (kubernetes/kubernetes#79384), then `go build`s the commands
 * with the version stamped as hack/lib/version.sh does.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KcmError } from "../errors.ts";
import { cacheDir } from "./paths.ts";
import { goJson } from "./go-build.ts";

/** The pinned Kubernetes release. Its staging modules are published as v0.<minor>.<patch>. */
export const KUBE_VERSION = "v1.36.3";

export const KUBE_COMMANDS = ["kube-apiserver", "kube-controller-manager"] as const;
export type KubeCommand = (typeof KUBE_COMMANDS)[number];

export interface KubeBinaries {
  readonly version: string;
  readonly paths: Record<KubeCommand, string>;
}

export type Progress = (line: string) => void;

function versionParts(version: string): { major: string; minor: string; patch: string } {
  const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m) throw new Error(`not a release version: ${version}`);
  return { major: m[1] ?? "", minor: m[2] ?? "", patch: m[3] ?? "" };
}

/** Staging modules are those k8s.io/kubernetes' go.mod replaces with ./staging/src/ folders. */
export function stagingModules(kubernetesGoMod: string): string[] {
  const mods = new Set<string>();
  for (const m of kubernetesGoMod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\/src\//gm)) {
    if (m[1]) mods.add(m[1]);
  }
  return [...mods].sort();
}

export function goDirective(kubernetesGoMod: string): string {
  return /^go\s+(\S+)/m.exec(kubernetesGoMod)?.[1] ?? "1.26.0";
}

export function wrapperGoMod(version: string, kubernetesGoMod: string): string {
  const { minor, patch } = versionParts(version);
  const replaces = stagingModules(kubernetesGoMod).map(
    (m) => `replace ${m} => ${m} v0.${minor}.${patch}`,
  );
  return [
    "module k8s-custom-metrics/kube-build",
    "",
    `go ${goDirective(kubernetesGoMod)}`,
    "",
    `require k8s.io/kubernetes ${version}`,
    "",
    ...replaces,
    "",
  ].join("\n");
}

const TOOLS_GO = `//go:build tools

// Package tools makes go mod tidy keep the commands we build.
package tools

import (
${KUBE_COMMANDS.map((c) => `\t_ "k8s.io/kubernetes/cmd/${c}"`).join("\n")}
)
`;

export function ldflags(version: string): string {
  const { major, minor } = versionParts(version);
  const pkg = "k8s.io/component-base/version";
  return [
    "-s -w",
    `-X ${pkg}.gitVersion=${version}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ].join(" ");
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; log: string[]; onLine?: Progress },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const onData = (buf: Buffer) => {
      for (const line of buf.toString().split("\n")) {
        if (line.trim() === "") continue;
        opts.log.push(line);
        opts.onLine?.(line);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => {
      resolve(code ?? 1);
    });
  });
}

function which(cmd: string): boolean {
  const dirs = (process.env["PATH"] ?? "").split(":");
  return dirs.some((d) => d !== "" && existsSync(join(d, cmd)));
}

export function binDir(version = KUBE_VERSION): string {
  return join(cacheDir(), "kubernetes", version, "bin");
}

export function cachedBinaries(version = KUBE_VERSION): KubeBinaries | undefined {
  const dir = binDir(version);
  const paths = Object.fromEntries(KUBE_COMMANDS.map((c) => [c, join(dir, c)])) as Record<
    KubeCommand,
    string
  >;
  return KUBE_COMMANDS.every((c) => existsSync(paths[c])) ? { version, paths } : undefined;
}

/**
 * Returns the cached binaries, building them first if needed. The first build downloads several
 * hundred MB of modules and compiles for many minutes; progress goes to `progress`.
 */
export async function ensureKubeBinaries(
  progress: Progress,
  version = KUBE_VERSION,
): Promise<KubeBinaries> {
  const cached = cachedBinaries(version);
  if (cached) return cached;
  if (!which("go")) {
    throw new KcmError(
      "KCM_ERR_PREREQ_MISSING",
      "Go is not on PATH; it is needed once to build kube-apiserver and kube-controller-manager",
    );
  }
  const root = join(cacheDir(), "kubernetes", version);
  const work = join(root, "module");
  const logFile = join(root, "build.log");
  await mkdir(work, { recursive: true });
  const log: string[] = [];
  const fail = async (what: string): Promise<never> => {
    await writeFile(logFile, log.join("\n") + "\n");
    throw new KcmError("KCM_ERR_KUBE_BUILD", `${what} failed; log: ${logFile}`);
  };
  const started = Date.now();
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)}s`;

  progress(`building Kubernetes ${version} from the Go module proxy (first run only, ~10-25 min)`);
  progress(`[1/4] downloading k8s.io/kubernetes@${version}`);
  const dl: string[] = [];
  if (
    (await run("go", ["mod", "download", "-json", `k8s.io/kubernetes@${version}`], {
      cwd: work,
      log: dl,
    })) !== 0
  ) {
    log.push(...dl);
    await fail("go mod download");
  }
  const info = goJson(dl.join("\n")) as { GoMod?: string };
  if (!info.GoMod) await fail("reading k8s.io/kubernetes go.mod");
  const kubeMod = await readFile(info.GoMod ?? "", "utf8");
  await writeFile(join(work, "go.mod"), wrapperGoMod(version, kubeMod));
  await writeFile(join(work, "tools.go"), TOOLS_GO);

  progress(`[2/4] resolving modules (go mod tidy) ${elapsed()}`);
  if ((await run("go", ["mod", "tidy"], { cwd: work, log })) !== 0) await fail("go mod tidy");

  const env = { CGO_ENABLED: "0", GOFLAGS: "-mod=mod" };
  const dir = binDir(version);
  await mkdir(dir, { recursive: true });
  let step = 3;
  for (const cmd of KUBE_COMMANDS) {
    progress(`[${step}/4] compiling ${cmd} ${elapsed()}`);
    const timer = setInterval(() => {
      progress(`      still compiling ${cmd} ${elapsed()}`);
    }, 60_000);
    const tmp = join(dir, `.${cmd}.tmp`);
    const code = await run(
      "go",
      [
        "build",
        "-trimpath",
        "-ldflags",
        ldflags(version),
        "-o",
        tmp,
        `k8s.io/kubernetes/cmd/${cmd}`,
      ],
      { cwd: work, env, log },
    ).finally(() => {
      clearInterval(timer);
    });
    if (code !== 0) await fail(`go build ${cmd}`);
    // Rename last, so an interrupted build never leaves a half-written binary in the cache.
    await rename(tmp, join(dir, cmd));
    step++;
  }
  await writeFile(logFile, log.join("\n") + "\n");
  progress(`built Kubernetes ${version} in ${elapsed()} into ${dir}`);
  const built = cachedBinaries(version);
  if (!built) return fail("locating the built binaries");
  return built;
}
