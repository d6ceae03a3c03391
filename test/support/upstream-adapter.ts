/**
 * @module test/support/upstream-adapter
 * prometheus-adapter v0.12.0 (the Go original) as a real child process, for differential tests.
 *
 * The binary is built once from the Go module proxy into
 * `${XDG_CACHE_HOME:-~/.cache}/k8s-custom-metrics/prometheus-adapter/v0.12.0/adapter`, first with
 * `go install sigs.k8s.io/prometheus-adapter/cmd/adapter@v0.12.0`; when that fails (a module proxy
 * that refuses the `@v/list` request `go install pkg@version` makes to look for deprecations
 * answers 403, for example) through a generated wrapper module that requires v0.12.0 and
 * `go build`s the command. It then serves HTTPS on a free loopback port with delegated
 * authentication and authorization against the shared local cluster, as it would behind the
 * aggregator: requests carry the front-proxy client certificate and `X-Remote-User` /
 * `X-Remote-Group: system:masters` (always allowed by delegated authorization).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { freePort } from "./prometheus.ts";
import { stopChild } from "./process.ts";

export const UPSTREAM_VERSION = "v0.12.0";
const MODULE = "sigs.k8s.io/prometheus-adapter";
const READY_TIMEOUT_MS = 60_000;

function cacheRoot(): string {
  const xdg = process.env["XDG_CACHE_HOME"];
  return join(
    xdg !== undefined && xdg !== "" ? xdg : join(homedir(), ".cache"),
    "k8s-custom-metrics",
  );
}

/** Where the binary lives (it may not exist yet). */
export function upstreamBinaryPath(): string {
  return join(cacheRoot(), "prometheus-adapter", UPSTREAM_VERSION, "adapter");
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv },
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
 * Builds prometheus-adapter v0.12.0 unless the cached binary exists; returns its path. Progress
 * lines go to `progress` (stderr by default): the first build takes minutes.
 */
export async function ensureUpstreamAdapter(
  progress: (line: string) => void = (l) => process.stderr.write(`[upstream-adapter] ${l}\n`),
): Promise<string> {
  const bin = upstreamBinaryPath();
  if (existsSync(bin)) return bin;
  const dir = join(cacheRoot(), "prometheus-adapter", UPSTREAM_VERSION);
  await mkdir(dir, { recursive: true });
  const t0 = Date.now();
  const elapsed = () => `(${String(Math.round((Date.now() - t0) / 1000))} s)`;
  // Build into a temporary GOBIN, then rename: a half-written binary is never taken as built.
  const gobin = await mkdtemp(join(dir, ".build-"));
  try {
    progress(`[1/2] go install ${MODULE}/cmd/adapter@${UPSTREAM_VERSION} (first run only)`);
    const env = { GOBIN: gobin, CGO_ENABLED: "0", GOFLAGS: "-mod=mod" };
    const install = await run(
      "go",
      ["install", `${MODULE}/cmd/adapter@${UPSTREAM_VERSION}`],
      { env },
      progress,
    );
    if (install.code !== 0) {
      progress(`go install failed ${elapsed()}; [2/2] building through a wrapper module instead`);
      const work = await mkdtemp(join(tmpdir(), "kcm-upstream-adapter-"));
      try {
        await writeFile(
          join(work, "go.mod"),
          `module kcm-upstream-prometheus-adapter\n\ngo 1.22.1\n\nrequire ${MODULE} ${UPSTREAM_VERSION}\n`,
        );
        const build = await run(
          "go",
          ["build", "-o", join(gobin, "adapter"), `${MODULE}/cmd/adapter`],
          { cwd: work, env },
          progress,
        );
        if (build.code !== 0) {
          throw new Error(
            `building prometheus-adapter ${UPSTREAM_VERSION} failed:\n${install.out}\n${build.out}`,
          );
        }
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    }
    await rename(join(gobin, "adapter"), bin);
    progress(`built ${bin} ${elapsed()}`);
  } finally {
    await rm(gobin, { recursive: true, force: true });
  }
  return bin;
}

export interface UpstreamOptions {
  readonly info: ClusterInfo;
  readonly prometheusUrl: string;
  readonly config: string;
  /** Go duration, e.g. `2s`. */
  readonly relistInterval: string;
  /** Go duration. */
  readonly maxAge: string;
  readonly extraArgs?: readonly string[];
  /**
   * Who `get()` claims to be in the front-proxy headers; default `differential` in
   * `system:masters` (always allowed, no SubjectAccessReview). Benchmarks pass an ordinary RBAC
   * user so the adapter really asks the API server (and uses its authorization cache).
   */
  readonly identity?: { readonly user: string; readonly groups: readonly string[] };
  /** Kubeconfig for the lister, authentication and authorization; default the cluster's admin one. */
  readonly kubeconfig?: string;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

export interface RunningUpstream {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** The adapter's process id (for /proc readings). */
  readonly pid: number;
  logs(): string;
  /** GET over HTTPS as the aggregator would send it (front-proxy cert, X-Remote-* headers). */
  get(path: string): Promise<RawResponse>;
  stop(): Promise<void>;
}

/** Starts prometheus-adapter and waits until `/readyz` answers 200 through the front proxy. */
export async function startUpstreamAdapter(o: UpstreamOptions): Promise<RunningUpstream> {
  const bin = await ensureUpstreamAdapter();
  const [cert, key] = await Promise.all([
    readFile(o.info.pki.frontProxyClientCert, "utf8"),
    readFile(o.info.pki.frontProxyClientKey, "utf8"),
  ]);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const certDir = await mkdtemp(join(tmpdir(), "kcm-upstream-certs-"));
    const url = `https://127.0.0.1:${String(port)}`;
    const kubeconfig = o.kubeconfig ?? o.info.kubeconfig;
    const args = [
      `--lister-kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      `--secure-port=${String(port)}`,
      "--bind-address=127.0.0.1",
      `--cert-dir=${certDir}`,
      `--prometheus-url=${o.prometheusUrl}`,
      `--config=${o.config}`,
      `--metrics-relist-interval=${o.relistInterval}`,
      `--metrics-max-age=${o.maxAge}`,
      ...(o.extraArgs ?? []),
    ];
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    const append = (d: Buffer) => {
      log = (log + d.toString()).slice(-1_000_000);
    };
    child.stdout.on("data", append);
    child.stderr.on("data", append);
    const get = (path: string): Promise<RawResponse> =>
      new Promise((resolve, reject) => {
        const req = httpsRequest(
          {
            host: "127.0.0.1",
            port,
            path,
            method: "GET",
            cert,
            key,
            // The serving certificate is the self-signed one written to the throw-away cert dir.
            rejectUnauthorized: false,
            headers: {
              "X-Remote-User": o.identity?.user ?? "differential",
              "X-Remote-Group": [...(o.identity?.groups ?? ["system:masters"])],
            },
            agent: false,
            timeout: 20_000,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("error", reject);
            res.on("end", () => {
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                text: Buffer.concat(chunks).toString("utf8"),
              });
            });
          },
        );
        req.on("timeout", () => req.destroy(new Error(`timed out: GET ${path}`)));
        req.on("error", reject);
        req.end();
      });
    const upstream: RunningUpstream = {
      url,
      pid: child.pid ?? 0,
      logs: () => log,
      get,
      async stop() {
        await stopChild(child);
        await rm(certDir, { recursive: true, force: true });
      },
    };
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        if ((await get("/readyz")).status === 200) return upstream;
      } catch {
        // Not listening yet.
      }
      await sleep(200);
    }
    await upstream.stop();
    if (attempt < 3 && log.includes("address already in use")) continue;
    throw new Error(`prometheus-adapter did not become ready (${args.join(" ")}):\n${log}`);
  }
}
