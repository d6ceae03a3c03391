/**
 * @module test/support/upstream-adapter
 * prometheus-adapter v0.12.0 (the Go original) as a real child process, for differential tests.
 *
 * The binary is built once from the Go module proxy into
 * `${XDG_CACHE_HOME:-~/.cache}/k8s-custom-metrics/prometheus-adapter/v0.12.0/adapter`, first with
 * `go install sigs.k8s.io/prometheus-adapter/cmd/adapter@v0.12.0`; when that fails (a module proxy
 * that refuses the `@v/list` request `go install pkg@version` makes to look for deprecations
 * answers 403, for example) through a generated wrapper module that requires v0.12.0 and
 * `go build`s the command (src/harness/go-build.ts). It then serves HTTPS on a free loopback port with delegated
 * authentication and authorization against the shared local cluster, as it would behind the
 * aggregator: requests carry the front-proxy client certificate and `X-Remote-User` /
 * `X-Remote-Group: system:masters` (always allowed by delegated authorization).
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { ensureGoBinary, goBinaryPath, type GoProgram } from "../../src/harness/go-build.ts";
import { httpsGet } from "./http.ts";
import { freePort } from "./prometheus.ts";
import { stopChild } from "./process.ts";

export const UPSTREAM_VERSION = "v0.12.0";
const MODULE = "sigs.k8s.io/prometheus-adapter";
const READY_TIMEOUT_MS = 60_000;

const PROGRAM: GoProgram = {
  name: "prometheus-adapter",
  module: MODULE,
  pkg: "cmd/adapter",
  version: UPSTREAM_VERSION,
  binary: "adapter",
  goVersion: "1.22.1",
};

/** Where the binary lives (it may not exist yet). */
export function upstreamBinaryPath(): string {
  return goBinaryPath(PROGRAM);
}

/**
 * Builds prometheus-adapter v0.12.0 unless the cached binary exists; returns its path. Progress
 * lines go to `progress` (stderr by default): the first build takes minutes.
 */
export function ensureUpstreamAdapter(
  progress: (line: string) => void = (l) => process.stderr.write(`[upstream-adapter] ${l}\n`),
): Promise<string> {
  return ensureGoBinary(PROGRAM, progress);
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

export interface FrontProxyTarget {
  readonly port: number;
  /** The front-proxy client certificate and key (PEM). */
  readonly cert: string;
  readonly key: string;
  /** Default `differential` in `system:masters`. */
  readonly identity?: { readonly user: string; readonly groups: readonly string[] };
}

/**
 * GET over HTTPS from 127.0.0.1:port as the aggregator would send it: the front-proxy client
 * certificate and `X-Remote-User` / `X-Remote-Group` headers.
 */
export function frontProxyGet(
  t: FrontProxyTarget,
  path: string,
  accept?: string,
): Promise<RawResponse> {
  return httpsGet({
    port: t.port,
    path,
    cert: t.cert,
    key: t.key,
    // The serving certificate is the self-signed one written to the throw-away cert dir.
    insecure: true,
    headers: {
      "X-Remote-User": t.identity?.user ?? "differential",
      "X-Remote-Group": [...(t.identity?.groups ?? ["system:masters"])],
      ...(accept === undefined ? {} : { Accept: accept }),
    },
  });
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
      frontProxyGet({ port, cert, key, ...(o.identity ? { identity: o.identity } : {}) }, path);
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
    // /readyz is open to anyone; /apis as a system:masters member also needs the front-proxy
    // certificate to be trusted, which prometheus-adapter loads from the auth ConfigMap a moment
    // after it answers /readyz (until then it sees an anonymous user: 403). A CI run hit that.
    const authenticated = (path: string) => frontProxyGet({ port, cert, key }, path);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        if (
          (await get("/readyz")).status === 200 &&
          (await authenticated("/apis")).status === 200
        ) {
          return upstream;
        }
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
