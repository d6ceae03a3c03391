/**
 * @module test/support/prometheus
 * A real, throw-away Prometheus for client tests: the given OpenMetrics text is backfilled with
 * `promtool tsdb create-blocks-from openmetrics`, then `prometheus` serves it on a free loopback
 * port. Also a recording reverse proxy, to see what the client actually sends.
 *
 * Prometheus 2.42 loads backfilled blocks at any age (overlap with the head is only a problem
 * when the head already holds samples, and a fresh data dir has none), so recent timestamps work
 * without `--storage.tsdb.allow-overlapping-blocks`. Instant queries only look back 5 minutes:
 * query at a sample's time, not at "now".
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type Server,
} from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const PROMETHEUS = process.env["K8SCM_PROMETHEUS_BIN"] ?? "prometheus";
const PROMTOOL = process.env["K8SCM_PROMTOOL_BIN"] ?? "promtool";
const READY_TIMEOUT_MS = 30_000;

export interface RunningPrometheus {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (free when asked; the caller retries if it is taken meanwhile). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address() as AddressInfo;
  srv.close();
  await once(srv, "close");
  return port;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(" ")} exited ${String(code)}:\n${out}`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(killer);
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited early:\n${log()}`);
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`prometheus not ready after ${String(READY_TIMEOUT_MS)} ms:\n${log()}`);
}

/**
 * Backfills `openMetrics` (it must end with `# EOF`) into a fresh TSDB and serves it. Retries
 * with another port when the chosen one was taken between picking and binding.
 */
export async function startPrometheus(opts: { openMetrics: string }): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), "kcm-prom-"));
  const dataDir = join(dir, "data");
  try {
    const input = join(dir, "input.om");
    const config = join(dir, "prometheus.yml");
    await writeFile(input, opts.openMetrics);
    await writeFile(config, "global: {}\n");
    await run(PROMTOOL, ["tsdb", "create-blocks-from", "openmetrics", input, dataDir]);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const url = `http://127.0.0.1:${String(port)}`;
      const child = spawn(
        PROMETHEUS,
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${dataDir}`,
          `--storage.tsdb.retention.time=100y`,
          `--web.listen-address=127.0.0.1:${String(port)}`,
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      let log = "";
      child.stderr.on("data", (d: Buffer) => {
        log = (log + d.toString()).slice(-20_000);
      });
      try {
        await waitReady(url, child, () => log);
      } catch (e) {
        await stopChild(child);
        if (attempt < 3 && log.includes("address already in use")) continue;
        throw e;
      }
      return {
        url,
        async stop() {
          await stopChild(child);
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

export interface RecordedRequest {
  readonly method: string;
  /** Path and query string as received. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface RecordingProxy {
  readonly url: string;
  readonly requests: RecordedRequest[];
  stop(): Promise<void>;
}

export interface ProxyOptions {
  /** Answer 414 to requests whose URL is longer than this, as nginx or VictoriaMetrics would. */
  readonly maxUrlLength?: number;
  /** Hold each request this long before forwarding, so concurrent calls surely overlap. */
  readonly delayMs?: number;
  /** Remove this path prefix before forwarding (to test base URLs with a path). */
  readonly stripPrefix?: string;
}

/** A loopback reverse proxy to `target` that records every request it sees. */
export async function startRecordingProxy(
  target: string,
  opts: ProxyOptions = {},
): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const url = req.url ?? "/";
      requests.push({ method: req.method ?? "", url, headers: req.headers, body: body.toString() });
      if (opts.maxUrlLength !== undefined && url.length > opts.maxUrlLength) {
        res.writeHead(414, { "content-type": "text/plain" }).end("URI Too Long");
        return;
      }
      const forward = (): void => {
        const out = httpRequest(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: req.method ?? "GET",
            path:
              opts.stripPrefix !== undefined && url.startsWith(opts.stripPrefix)
                ? url.slice(opts.stripPrefix.length)
                : url,
            headers: { ...req.headers, host: upstream.host },
          },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        out.on("error", (e) => res.writeHead(502).end(String(e)));
        out.end(body);
      };
      if (opts.delayMs === undefined) forward();
      else setTimeout(forward, opts.delayMs);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    requests,
    async stop() {
      const closed = once(server, "close");
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
