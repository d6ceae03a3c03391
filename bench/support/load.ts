/**
 * @module bench/support/load
 * A bounded, closed-loop loopback load generator: `concurrency` workers each send a request, wait
 * for the whole answer, and send the next, until a duration or a request count is reached. Reports
 * latency percentiles, throughput, errors, and (given the server's pid) the server's CPU seconds
 * per 1,000 requests (utime+stime from /proc/<pid>/stat) and peak RSS (VmHWM, reset before the run
 * through /proc/<pid>/clear_refs).
 *
 * Two transports:
 * - `h2` (node:http2, one TLS connection, requests multiplexed as streams): what kube-apiserver's
 *   aggregator speaks to an APIService backend. Its proxy transport comes from client-go
 *   `transport.New` (kube-aggregator pkg/apiserver/handler_proxy.go), built by
 *   `utilnet.SetTransportDefaults` (client-go transport/cache.go), which enables HTTP/2 unless
 *   `DISABLE_HTTP2` is set; both adapters offer h2 in ALPN. Go's HTTP/2 client keeps one
 *   connection per backend and opens another only past the server's stream limit (Go's server:
 *   250, ours: unlimited), so at concurrency ≤ 64 one session is the faithful shape.
 * - `http1` (an undici `Pool` with one keep-alive connection per worker): what the adapters' own
 *   Prometheus clients use (our client is an undici Pool too), so the floor — the same PromQL sent
 *   straight to Prometheus — is measured over the transport the adapter itself pays for.
 *
 * Any answer other than `expectStatus` (200) counts as an error; by default the run then throws
 * with the first error's status and body, so a table never silently averages failures.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import {
  connect as http2Connect,
  type ClientHttp2Session,
  type OutgoingHttpHeaders,
} from "node:http2";
import { Pool } from "undici";

/** Where requests go and how. */
export interface LoadTarget {
  /** `https://127.0.0.1:<port>` or `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly protocol: "h2" | "http1";
  /** Client certificate (PEM) for TLS targets; the server's certificate is not verified. */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Sent with every request (e.g. X-Remote-User, Accept); arrays repeat the header. */
  readonly headers?: Readonly<Record<string, string | string[]>>;
}

/** One request shape; functions are called per request (e.g. a fresh `time=` parameter). */
export interface LoadRequest {
  readonly method?: "GET" | "POST";
  readonly path: string | (() => string);
  readonly body?: string | (() => string);
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LoadOptions {
  readonly concurrency: number;
  /** Stop after this long (workers finish the request they are in)… */
  readonly durationMs?: number;
  /** …or after this many requests, whichever comes first. At least one bound is required. */
  readonly requests?: number;
  /** Requests sent (at `concurrency`) before measuring, not counted. Default: `concurrency`. */
  readonly warmupRequests?: number;
  /** The server process, for CPU and peak RSS; omit when it is not ours to measure. */
  readonly pid?: number;
  readonly expectStatus?: number;
  /** Throw when any request failed (default true). */
  readonly failOnError?: boolean;
  /** Per-request timeout (default 60 s, kube-apiserver's default `--request-timeout`). */
  readonly timeoutMs?: number;
}

export interface LoadResult {
  readonly concurrency: number;
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
  /** Server CPU (user+system) during the measured part; undefined without `pid`. */
  readonly cpuSeconds?: number;
  readonly cpuSecondsPer1000?: number;
  /** Server VmHWM after the run (reset before the warm-up); undefined without `pid`. */
  readonly peakRssMb?: number;
  /** The first error seen, for messages. */
  readonly firstError?: string;
}

// ---------------------------------------------------------------------------------------------
// /proc readers (Linux)

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process in seconds (all its threads), from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, "utf8");
  // The command name (field 2) is parenthesized and may hold spaces: split after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the name, field 3 (state) is index 0: utime (14) and stime (15) are indexes 11 and 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / ticksPerSecond();
}

function statusField(pid: number, field: string): number {
  const status = readFileSync(`/proc/${String(pid)}/status`, "utf8");
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return m ? Number(m[1]) / 1024 : 0;
}

/** Peak resident set size (VmHWM) in MiB. */
export function peakRssMbOf(pid: number): number {
  return statusField(pid, "VmHWM");
}

/** Current resident set size (VmRSS) in MiB. */
export function rssMbOf(pid: number): number {
  return statusField(pid, "VmRSS");
}

/**
 * Resets VmHWM to the current RSS (`echo 5 > /proc/<pid>/clear_refs`, Linux ≥ 4.0), so the next
 * reading is the peak of what follows. Returns false when the kernel refused.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${String(pid)}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Transports

export interface Answer {
  readonly status: number;
  readonly body: string;
}

export interface TimedAnswer extends Answer {
  /** performance.now() when the stream closed, before the caller's own work on earlier answers. */
  readonly at: number;
}

/**
 * One request on an HTTP/2 session: its status and whole body; status 0 with the error as body when
 * the stream fails. Rejects only when the session refuses a new stream (closed or destroyed). A
 * stream not done within `timeoutMs` is closed.
 */
export function h2Exchange(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body: string | undefined,
  timeoutMs: number,
): Promise<TimedAnswer> {
  return new Promise((res) => {
    const stream = session.request(headers);
    stream.setTimeout(timeoutMs, () => {
      stream.close();
    });
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      status = Number(h[":status"]);
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", (e: Error) => {
      res({ status: 0, body: String(e), at: performance.now() });
    });
    stream.on("close", () => {
      res({ status, body: Buffer.concat(chunks).toString("utf8"), at: performance.now() });
    });
    stream.end(body);
  });
}

interface Sender {
  send(
    method: string,
    path: string,
    body: string | undefined,
    headers: Record<string, string | string[]>,
  ): Promise<Answer>;
  close(): Promise<void>;
}

function h2Sender(target: LoadTarget, timeoutMs: number): Promise<Sender> {
  return new Promise((resolve, reject) => {
    const session: ClientHttp2Session = http2Connect(target.origin, {
      ...(target.tls ? { cert: target.tls.cert, key: target.tls.key } : {}),
      rejectUnauthorized: false,
      // Go's HTTP/2 client advertises a large window; Node's default 64 KiB would throttle lists.
      settings: { initialWindowSize: 4 * 1024 * 1024 },
    });
    session.once("error", reject);
    session.once("connect", () => {
      session.off("error", reject);
      // A session error after connecting fails the requests in flight, which count as errors.
      session.on("error", () => undefined);
      session.setLocalWindowSize(16 * 1024 * 1024);
      resolve({
        send(method, path, body, headers) {
          return h2Exchange(
            session,
            { ":method": method, ":path": path, ...headers },
            body,
            timeoutMs,
          );
        },
        close: () =>
          new Promise<void>((res) => {
            session.close(() => {
              res();
            });
          }),
      });
    });
  });
}

function http1Sender(target: LoadTarget, connections: number, timeoutMs: number): Sender {
  const pool = new Pool(target.origin, {
    connections,
    pipelining: 1,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    ...(target.tls
      ? { connect: { cert: target.tls.cert, key: target.tls.key, rejectUnauthorized: false } }
      : {}),
  });
  return {
    async send(method, path, body, headers) {
      try {
        const r = await pool.request({
          method,
          path,
          headers,
          ...(body === undefined ? {} : { body }),
        });
        return { status: r.statusCode, body: await r.body.text() };
      } catch (e) {
        return { status: 0, body: String(e) };
      }
    },
    close: () => pool.close(),
  };
}

// ---------------------------------------------------------------------------------------------

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

/** Runs the load and returns its figures; see the module comment. */
export async function runLoad(
  target: LoadTarget,
  request: LoadRequest | readonly LoadRequest[],
  o: LoadOptions,
): Promise<LoadResult> {
  if (o.durationMs === undefined && o.requests === undefined) {
    throw new Error("runLoad: give durationMs or requests (a load run must be bounded)");
  }
  const timeoutMs = o.timeoutMs ?? 60_000;
  const expect = o.expectStatus ?? 200;
  const sender =
    target.protocol === "h2"
      ? await h2Sender(target, timeoutMs)
      : http1Sender(target, o.concurrency, timeoutMs);
  const shapes = (Array.isArray(request) ? request : [request]) as readonly LoadRequest[];
  if (shapes.length === 0) throw new Error("runLoad: no request given");
  const prepared = shapes.map((r) => ({
    method: r.method ?? "GET",
    headers: { ...target.headers, ...r.headers },
    pathOf: typeof r.path === "string" ? () => r.path as string : r.path,
    bodyOf:
      r.body === undefined
        ? () => undefined
        : typeof r.body === "string"
          ? () => r.body as string
          : r.body,
  }));
  // Mutated by the workers' closures (a plain `let` would be narrowed away by flow analysis).
  const failures: { count: number; first?: string } = { count: 0 };
  const resetFailures = (): void => {
    failures.count = 0;
    delete failures.first;
  };
  const sendOne = async (p: (typeof prepared)[number]): Promise<void> => {
    const path = p.pathOf();
    const a = await sender.send(p.method, path, p.bodyOf(), p.headers);
    if (a.status !== expect) {
      failures.count++;
      failures.first ??= `${p.method} ${path.slice(0, 200)} → ${String(a.status)}: ${a.body.slice(0, 500)}`;
    }
  };
  // One iteration: the request, or every request of a group at once (an adapter answer that
  // needs several Prometheus queries in parallel); its latency is until the last answer.
  const one = async (): Promise<number> => {
    const t0 = performance.now();
    if (prepared.length === 1) await sendOne(prepared[0] as (typeof prepared)[number]);
    else await Promise.all(prepared.map(sendOne));
    return performance.now() - t0;
  };
  try {
    // Warm-up: connections, caches (authorization, REST mapping), JIT; not measured.
    const warm = o.warmupRequests ?? o.concurrency;
    let warmLeft = warm;
    await Promise.all(
      Array.from({ length: Math.min(o.concurrency, Math.max(1, warm)) }, async () => {
        while (warmLeft > 0) {
          warmLeft--;
          await one();
        }
      }),
    );
    if (failures.count > 0 && o.failOnError !== false) {
      throw new Error(`load: warm-up failed: ${failures.first ?? ""}`);
    }
    resetFailures();

    if (o.pid !== undefined) resetPeakRss(o.pid);
    const cpu0 = o.pid === undefined ? 0 : cpuSecondsOf(o.pid);
    let latencies = new Float64Array(1 << 14);
    let n = 0;
    let started = 0;
    const t0 = performance.now();
    const deadline = o.durationMs === undefined ? Infinity : t0 + o.durationMs;
    const limit = o.requests ?? Infinity;
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (started < limit && performance.now() < deadline) {
          started++;
          const ms = await one();
          if (n === latencies.length) {
            const grown = new Float64Array(latencies.length * 2);
            grown.set(latencies);
            latencies = grown;
          }
          latencies[n++] = ms;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = o.pid === undefined ? undefined : cpuSecondsOf(o.pid) - cpu0;
    const sorted = latencies.slice(0, n).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    if (failures.count > 0 && o.failOnError !== false) {
      throw new Error(
        `load: ${String(failures.count)} of ${String(n)} requests failed; first: ${failures.first ?? ""}`,
      );
    }
    return {
      concurrency: o.concurrency,
      requests: n,
      errors: failures.count,
      seconds,
      reqPerSec: n / seconds,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? Number.NaN,
      meanMs: n === 0 ? Number.NaN : sum / n,
      ...(cpuSeconds === undefined
        ? {}
        : { cpuSeconds, cpuSecondsPer1000: n === 0 ? Number.NaN : (cpuSeconds / n) * 1000 }),
      ...(o.pid === undefined ? {} : { peakRssMb: peakRssMbOf(o.pid) }),
      ...(failures.first === undefined ? {} : { firstError: failures.first }),
    };
  } finally {
    await sender.close();
  }
}
