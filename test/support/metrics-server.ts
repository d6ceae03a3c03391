/**
 * @module test/support/metrics-server
 * metrics-server v0.8.0 (the Go original) and our kubelet source side by side, for the
 * metrics.k8s.io differential test: both serve HTTPS on loopback with delegated authentication
 * and authorization against the local cluster (requests come with the front-proxy client
 * certificate and `X-Remote-Group: system:masters`, as the aggregator sends them), and both scrape
 * the same kubelets through a {@link KubeletFarm}.
 *
 * The binary is built once from the Go module proxy (`go install
 * sigs.k8s.io/metrics-server/cmd/metrics-server@v0.8.0`, or a wrapper module, src/harness/go-build.ts)
 * into `${XDG_CACHE_HOME:-~/.cache}/k8s-custom-metrics/metrics-server/v0.8.0/metrics-server`.
 *
 * The farm serves every kubelet's `/metrics/resource` over HTTPS on one port, each node on its own
 * loopback IP: the local node agent's (fetched from it) and synthetic ones (bodies from the
 * benchmark's model, bench/support/synthetic-kubelets.ts). Frozen, it serves the same bodies until
 * `advance()` fetches new ones, so both servers store the very same points whatever their scrape
 * timing, and their answers can be compared exactly; live, every request is fetched anew.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { createCa, issue } from "../../src/pki/pki.ts";
import { ensureGoBinary, goBinaryPath, type GoProgram } from "../../src/harness/go-build.ts";
import { freePort } from "./prometheus.ts";
import { stopChild } from "./process.ts";
import { frontProxyGet, type RawResponse } from "./upstream-adapter.ts";

export const METRICS_SERVER_VERSION = "v0.8.0";

const PROGRAM: GoProgram = {
  name: "metrics-server",
  module: "sigs.k8s.io/metrics-server",
  pkg: "cmd/metrics-server",
  version: METRICS_SERVER_VERSION,
  binary: "metrics-server",
  goVersion: "1.24.4",
};

const OUR_CLI = fileURLToPath(new URL("../../bin/k8s-custom-metrics.js", import.meta.url));
const READY_TIMEOUT_MS = 90_000;

export function metricsServerBinaryPath(): string {
  return goBinaryPath(PROGRAM);
}

/** Builds metrics-server v0.8.0 unless it is cached; returns the binary's path. */
export function ensureMetricsServer(progress?: (line: string) => void): Promise<string> {
  return ensureGoBinary(PROGRAM, progress);
}

export interface RunningServer {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  logs(): string;
  /** GET as the aggregator sends it, as a cluster admin; `accept`: the Accept header. */
  get(path: string, accept?: string): Promise<RawResponse>;
  stop(): Promise<void>;
}

export interface KubeletSourceServerOptions {
  readonly info: ClusterInfo;
  /** The kubelet port every node is scraped on (the farm's). */
  readonly kubeletPort: number;
  /** Go duration; metrics-server's manifest uses 15s. */
  readonly resolution: string;
  readonly extraArgs?: readonly string[];
}

async function startServer(
  name: string,
  info: ClusterInfo,
  command: (port: number, certDir: string) => { cmd: string; args: string[] },
  readyPath: string,
): Promise<RunningServer> {
  const [cert, key] = await Promise.all([
    readFile(info.pki.frontProxyClientCert, "utf8"),
    readFile(info.pki.frontProxyClientKey, "utf8"),
  ]);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const certDir = await mkdtemp(join(tmpdir(), `kcm-${name}-certs-`));
    const { cmd, args } = command(port, certDir);
    const child: ChildProcess = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    const append = (d: Buffer) => {
      log = (log + d.toString()).slice(-1_000_000);
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    const server: RunningServer = {
      name,
      port,
      pid: child.pid ?? 0,
      logs: () => log,
      get: (path, accept) =>
        frontProxyGet(
          { port, cert, key, identity: { user: "admin", groups: ["system:masters"] } },
          path,
          accept,
        ),
      async stop() {
        await stopChild(child);
        await rm(certDir, { recursive: true, force: true });
      },
    };
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        if ((await server.get(readyPath)).status === 200) return server;
      } catch {
        // Not listening yet.
      }
      await sleep(250);
    }
    await server.stop();
    if (attempt < 3 && /address already in use|KCM_ERR_PORT_BUSY/.test(log)) continue;
    throw new Error(`${name} did not become ready (${cmd} ${args.join(" ")}):\n${log}`);
  }
}

/**
 * metrics-server with what the local cluster needs: the admin kubeconfig for its informers and
 * for delegated authentication and authorization, kubelets by InternalIP on the farm's port, and
 * the farm's self-signed certificates accepted. Ready once its informers synced (`/healthz`; its
 * `/readyz` waits for a second scrape).
 */
export async function startMetricsServer(o: KubeletSourceServerOptions): Promise<RunningServer> {
  const bin = await ensureMetricsServer();
  const kubeconfig = o.info.kubeconfig;
  return startServer(
    "metrics-server",
    o.info,
    (port, certDir) => ({
      cmd: bin,
      args: [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${String(port)}`,
        `--cert-dir=${certDir}`,
        "--kubelet-insecure-tls",
        `--kubelet-port=${String(o.kubeletPort)}`,
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
        `--metric-resolution=${o.resolution}`,
        ...(o.extraArgs ?? []),
      ],
    }),
    "/healthz",
  );
}

/**
 * Our adapter serving only metrics.k8s.io from kubelets, with the same kubelet flags as
 * metrics-server. `cli` runs another checkout's `bin/k8s-custom-metrics.js` (a before/after
 * measurement).
 */
export async function startKubeletSourceAdapter(
  o: KubeletSourceServerOptions & { readonly cli?: string },
): Promise<RunningServer> {
  const kubeconfig = o.info.kubeconfig;
  return startServer(
    "k8s-custom-metrics",
    o.info,
    (port, certDir) => ({
      cmd: process.execPath,
      args: [
        o.cli ?? OUR_CLI,
        "serve",
        `--prometheus-url=${o.info.prometheusUrl}`,
        `--lister-kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${String(port)}`,
        `--cert-dir=${certDir}`,
        "--disable-custom-metrics",
        "--disable-external-metrics",
        "--metrics-relist-interval=1h",
        "--resource-metrics-source=kubelet",
        "--kubelet-insecure-tls",
        `--kubelet-port=${String(o.kubeletPort)}`,
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
        `--metric-resolution=${o.resolution}`,
        ...(o.extraArgs ?? []),
      ],
    }),
    // Serving, as for metrics-server: /readyz may wait for a rate to serve.
    "/healthz",
  );
}

// ---- the kubelet farm ------------------------------------------------------------------------

export interface FarmNode {
  /** The loopback IP this node's kubelet answers on (its InternalIP). */
  readonly ip: string;
  /** A fresh `/metrics/resource` body; rejecting answers 500, as a broken kubelet. */
  readonly render: () => Promise<string>;
}

/** Who scraped: metrics-server (client-go's User-Agent) or us. */
export type Scraper = "metrics-server" | "k8s-custom-metrics";

function scraperOf(req: IncomingMessage): Scraper {
  return (req.headers["user-agent"] ?? "").startsWith("metrics-server")
    ? "metrics-server"
    : "k8s-custom-metrics";
}

export interface KubeletFarm {
  readonly port: number;
  /** The current generation of bodies (frozen mode); starts at 1. */
  readonly generation: number;
  /** Fetches every node's body anew: the next generation. Returns its number. */
  advance(): Promise<number>;
  /** Resolves once each scraper fetched generation `gen` from every node, after it was made. */
  waitScraped(scrapers: readonly Scraper[], gen: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** A kubelet's text: for each node, the body of the current generation (or an error). */
type Bodies = Map<string, { text: string } | { error: string }>;

async function renderAll(nodes: readonly FarmNode[]): Promise<Bodies> {
  const out: Bodies = new Map();
  await Promise.all(
    nodes.map(async (n) => {
      try {
        out.set(n.ip, { text: await n.render() });
      } catch (e) {
        out.set(n.ip, { error: String(e) });
      }
    }),
  );
  return out;
}

/**
 * Starts HTTPS kubelets for `nodes`, all on one port. `live`: every request renders anew
 * (timing measurements); otherwise bodies change only on `advance()`.
 */
export async function startKubeletFarm(
  nodes: readonly FarmNode[],
  o: { readonly live?: boolean } = {},
): Promise<KubeletFarm> {
  const ca = await createCa("kcm-test-kubelet-farm");
  const serving = await issue(ca, {
    commonName: "kubelet",
    ipAddresses: nodes.map((n) => n.ip),
    usage: "server",
  });
  let generation = 1;
  let bodies = await renderAll(nodes);
  // generation → scraper → IPs it fetched that generation from.
  const seen = new Map<number, Map<Scraper, Set<string>>>();
  const handle = (ip: string) => (req: IncomingMessage, res: ServerResponse) => {
    if ((req.url ?? "").split("?")[0] !== "/metrics/resource") {
      res.statusCode = 404;
      res.end("404 page not found\n");
      return;
    }
    const gen = generation;
    const body = o.live
      ? renderAll(nodes.filter((n) => n.ip === ip)).then((b) => b.get(ip))
      : Promise.resolve(bodies.get(ip));
    void body.then((b) => {
      if (!b || "error" in b) {
        res.statusCode = 500;
        res.end(b ? b.error : "no such node");
        return;
      }
      res.setHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      res.end(b.text, () => {
        let bySc = seen.get(gen);
        if (!bySc) {
          bySc = new Map();
          seen.set(gen, bySc);
        }
        const who = scraperOf(req);
        let ips = bySc.get(who);
        if (!ips) {
          ips = new Set();
          bySc.set(who, ips);
        }
        ips.add(ip);
      });
    });
  };
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const servers: Server[] = [];
    try {
      for (const n of nodes) {
        const server = createServer({ cert: serving.certPem, key: serving.keyPem }, handle(n.ip));
        server.keepAliveTimeout = 90_000;
        servers.push(server);
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(port, n.ip, () => {
            resolve();
          });
        });
      }
    } catch (e) {
      for (const s of servers) s.close();
      if (attempt < 3 && (e as NodeJS.ErrnoException).code === "EADDRINUSE") continue;
      throw e;
    }
    const farm: KubeletFarm = {
      port,
      get generation() {
        return generation;
      },
      async advance() {
        // New bodies are rendered before the generation changes, so a scrape meanwhile gets the
        // old generation whole.
        const next = await renderAll(nodes);
        bodies = next;
        return ++generation;
      },
      async waitScraped(scrapers, gen, timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        const all = nodes.filter((n) => {
          const b = bodies.get(n.ip);
          return b !== undefined && !("error" in b);
        });
        for (;;) {
          const bySc = seen.get(gen);
          const done = scrapers.every((s) => all.every((n) => bySc?.get(s)?.has(n.ip)));
          if (done) return;
          if (Date.now() > deadline) {
            const have = scrapers
              .map((s) => `${s}: ${String(bySc?.get(s)?.size ?? 0)}/${String(all.length)}`)
              .join(", ");
            throw new Error(`kubelets of generation ${String(gen)} were not all scraped: ${have}`);
          }
          await sleep(200);
        }
      },
      async stop() {
        await Promise.all(
          servers.map(
            (s) =>
              new Promise<void>((resolve) => {
                s.closeAllConnections();
                s.close(() => {
                  resolve();
                });
              }),
          ),
        );
      },
    };
    return farm;
  }
}

/** The node agent's own `/metrics/resource`. */
export async function nodeAgentBody(info: ClusterInfo): Promise<string> {
  const res = await fetch(`${info.nodeAgentUrl}/metrics/resource`, {
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`node agent: HTTP ${String(res.status)}: ${text}`);
  return text;
}
