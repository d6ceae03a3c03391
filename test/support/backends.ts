/**
 * @module test/support/backends
 * Prometheus-compatible backends other than a lone Prometheus, as real throw-away processes on
 * loopback, each loaded with the same OpenMetrics text as test/support/prometheus.ts' Prometheus:
 *
 * - VictoriaMetrics (single node; Debian's `victoria-metrics`, or `K8SCM_VICTORIA_METRICS_BIN`),
 *   fed through `/api/v1/import/prometheus` (Prometheus text with millisecond timestamps). Run
 *   with its defaults, `-search.maxQueryLen` (16384) included.
 * - Thanos Query in front of Prometheus replicas, each backfilled with `promtool` like the plain
 *   Prometheus, carrying an external label `replica` and reached through a Thanos sidecar (gRPC
 *   store API), with `--query.replica-label=replica`.
 *
 * Thanos v0.42.5 is built once from the Go module proxy into
 * `${XDG_CACHE_HOME:-~/.cache}/k8s-custom-metrics/thanos/v0.42.5/thanos` (or `K8SCM_THANOS_BIN`).
 * Its go.mod has `replace` directives, which `go install pkg@version` refuses, so the build goes
 * through a generated wrapper module that requires it and repeats those directives; and it asks
 * for Go ≥ 1.26.10, so the go command fetches the go1.27.3 toolchain from the module proxy for it.
 * It is built with the tags of Thanos' release build (`netgo,slicelabels`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startAdapter, type RunningAdapter } from "./adapter.ts";
import { waitFor } from "./cluster.ts";
import { answer, CM, EM, MK, type Answer, type CorpusWorld } from "./differential-corpus.ts";
import { cacheRoot, goJson, run as runLogged } from "../../src/harness/go-build.ts";
import {
  freePort,
  startRecordingProxy,
  type RecordedRequest,
  type RecordingProxy,
} from "./prometheus.ts";
import { stopChild } from "./process.ts";

export const THANOS_VERSION = "v0.42.5";
const THANOS_MODULE = "github.com/thanos-io/thanos";
/** The toolchain Thanos' go.mod needs (go ≥ 1.26.10), from the module proxy. */
const THANOS_TOOLCHAIN = "go1.27.3";
const PROMETHEUS = process.env["K8SCM_PROMETHEUS_BIN"] ?? "prometheus";
const PROMTOOL = process.env["K8SCM_PROMTOOL_BIN"] ?? "promtool";
const VICTORIA_METRICS = process.env["K8SCM_VICTORIA_METRICS_BIN"] ?? "victoria-metrics";
const READY_TIMEOUT_MS = 60_000;

export interface RunningBackend {
  /** Base URL of the Prometheus HTTP API, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  logs(): string;
  stop(): Promise<void>;
}

/** Runs a command to completion; its output (the last 50 kB) in the error when it fails. */
async function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; progress?: (line: string) => void } = {},
): Promise<string> {
  const r = await runLogged(cmd, args, opts, opts.progress ?? (() => undefined));
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${String(r.code)}:\n${r.out}`);
  return r.out;
}

/** A long-running child whose output is kept (bounded) for failure messages. */
function daemon(cmd: string, args: readonly string[]): { child: ChildProcess; log: () => string } {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const append = (d: Buffer) => {
    log = (log + d.toString()).slice(-100_000);
  };
  child.stdout.on("data", append);
  child.stderr.on("data", append);
  return { child, log: () => log };
}

/** Polls `url` until it answers 2xx (and `accept` agrees), or throws with the process' log. */
async function waitHttp(
  what: string,
  url: string,
  child: ChildProcess,
  log: () => string,
  accept: (body: string) => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited early:\n${log()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      if (res.ok && accept(body)) return;
    } catch {
      // Not listening yet.
    }
    await sleep(200);
  }
  throw new Error(`${what} not ready after ${String(READY_TIMEOUT_MS)} ms (${url}):\n${log()}`);
}

/**
 * Starts a daemon on fresh loopback ports (`args(ports)`), retrying with other ports when one was
 * taken between picking and binding.
 */
async function startOnFreePorts(
  what: string,
  cmd: string,
  ports: number,
  args: (ports: number[]) => string[],
  ready: (ports: number[], child: ChildProcess, log: () => string) => Promise<void>,
): Promise<{ child: ChildProcess; log: () => string; ports: number[] }> {
  for (let attempt = 1; ; attempt++) {
    const picked: number[] = [];
    for (let i = 0; i < ports; i++) picked.push(await freePort());
    const d = daemon(cmd, args(picked));
    try {
      await ready(picked, d.child, d.log);
      return { ...d, ports: picked };
    } catch (e) {
      await stopChild(d.child);
      if (attempt < 3 && /address already in use/.test(d.log())) continue;
      throw new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// VictoriaMetrics

/**
 * OpenMetrics text (timestamps in seconds, `# EOF`) as the Prometheus text format that
 * VictoriaMetrics imports: the same samples with millisecond timestamps.
 */
export function toPrometheusTextMs(openMetrics: string): string {
  const out: string[] = [];
  for (const line of openMetrics.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    // The timestamp is the last field; label values in these fixtures hold no spaces.
    const m = /^(.*\S)\s+(\S+)\s+(\d+(?:\.\d+)?)$/.exec(line);
    if (!m) throw new Error(`not a sample with a timestamp: ${line}`);
    out.push(`${m[1] ?? ""} ${m[2] ?? ""} ${String(Math.round(Number(m[3]) * 1000))}`);
  }
  return `${out.join("\n")}\n`;
}

/** The distinct series of an OpenMetrics text (name and labels as written). */
function seriesCount(openMetrics: string): number {
  const seen = new Set<string>();
  for (const line of openMetrics.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    seen.add(line.replace(/\s+\S+\s+\S+$/, ""));
  }
  return seen.size;
}

async function apiGet(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { status?: string; data?: unknown };
  if (!res.ok || body.status !== "success") throw new Error(`${url}: ${JSON.stringify(body)}`);
  return body.data;
}

/**
 * Starts VictoriaMetrics with its default query limits and imports `openMetrics` (it must end
 * with `# EOF`), then waits until every series is searchable. Series whose samples are all NaN
 * never appear: VictoriaMetrics drops NaN samples other than Prometheus' staleness marker on
 * ingestion (docs/backends.md).
 */
export async function startVictoriaMetrics(o: {
  readonly openMetrics: string;
  readonly extraArgs?: readonly string[];
}): Promise<RunningBackend> {
  const dir = await mkdtemp(join(tmpdir(), "kcm-vm-"));
  try {
    const { child, log, ports } = await startOnFreePorts(
      "victoria-metrics",
      VICTORIA_METRICS,
      1,
      ([port]) => [
        `-storageDataPath=${join(dir, "data")}`,
        `-httpListenAddr=127.0.0.1:${String(port)}`,
        "-retentionPeriod=100y",
        ...(o.extraArgs ?? []),
      ],
      ([port], c, l) =>
        waitHttp("victoria-metrics", `http://127.0.0.1:${String(port)}/health`, c, l),
    );
    const url = `http://127.0.0.1:${String(ports[0])}`;
    const backend: RunningBackend = {
      url,
      logs: log,
      async stop() {
        await stopChild(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
    try {
      const res = await fetch(`${url}/api/v1/import/prometheus`, {
        method: "POST",
        body: toPrometheusTextMs(o.openMetrics),
        signal: AbortSignal.timeout(30_000),
      });
      if (res.status !== 204) {
        throw new Error(`import answered ${String(res.status)}: ${await res.text()}`);
      }
      // Make the rows searchable now rather than within a second or so.
      await (await fetch(`${url}/internal/force_flush`)).arrayBuffer();
      const expected = seriesCount(o.openMetrics) - nanOnlySeries(o.openMetrics);
      const start = String(Math.floor(Date.now() / 1000) - 86_400);
      const deadline = Date.now() + READY_TIMEOUT_MS;
      for (;;) {
        const list = (await apiGet(
          `${url}/api/v1/series?match[]=${encodeURIComponent('{__name__=~".+"}')}&start=${start}`,
        )) as unknown[];
        if (list.length >= expected) break;
        if (Date.now() > deadline) {
          throw new Error(`only ${String(list.length)} of ${String(expected)} series searchable`);
        }
        await sleep(250);
      }
    } catch (e) {
      await backend.stop();
      throw new Error(`loading victoria-metrics: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
      });
    }
    return backend;
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Series of the text whose every sample is NaN. */
function nanOnlySeries(openMetrics: string): number {
  const nan = new Map<string, boolean>();
  for (const line of openMetrics.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(.*\S)\s+(\S+)\s+\S+$/.exec(line);
    if (!m) continue;
    const key = m[1] ?? "";
    nan.set(key, (nan.get(key) ?? true) && m[2] === "NaN");
  }
  return [...nan.values()].filter(Boolean).length;
}

// ---------------------------------------------------------------------------------------------
// Thanos

export function thanosBinaryPath(): string {
  return join(cacheRoot(), "thanos", THANOS_VERSION, "thanos");
}

/** `replace` directives of a go.mod (block and single-line forms), as go.mod text. */
export function replaceDirectives(goMod: string): string {
  const out: string[] = [];
  const lines = goMod.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").replace(/\/\/.*$/, "").trim();
    if (line === "replace (") {
      for (i++; i < lines.length && (lines[i] ?? "").trim() !== ")"; i++) {
        const inner = (lines[i] ?? "").replace(/\/\/.*$/, "").trim();
        if (inner !== "") out.push(`replace ${inner}`);
      }
    } else if (line.startsWith("replace ")) {
      out.push(line);
    }
  }
  return out.join("\n");
}

/**
 * Builds Thanos unless the cached binary exists (or `K8SCM_THANOS_BIN` names one); returns its
 * path. The first build takes about ten minutes on 2 cores.
 */
export async function ensureThanos(
  progress: (line: string) => void = (l) => process.stderr.write(`[thanos] ${l}\n`),
): Promise<string> {
  const given = process.env["K8SCM_THANOS_BIN"];
  if (given !== undefined && given !== "") return given;
  const bin = thanosBinaryPath();
  if (existsSync(bin)) return bin;
  const dir = join(cacheRoot(), "thanos", THANOS_VERSION);
  await mkdir(dir, { recursive: true });
  const t0 = Date.now();
  const work = await mkdtemp(join(tmpdir(), "kcm-thanos-"));
  const out = await mkdtemp(join(dir, ".build-"));
  const env = {
    GOTOOLCHAIN: THANOS_TOOLCHAIN,
    CGO_ENABLED: "0",
    GOFLAGS: "-mod=mod",
  };
  try {
    progress(`building ${THANOS_MODULE}/cmd/thanos@${THANOS_VERSION} (first run only, ~10 min)`);
    const info = goJson(
      await run("go", ["mod", "download", "-json", `${THANOS_MODULE}@${THANOS_VERSION}`], {
        cwd: work,
        env,
      }),
    ) as { GoMod?: string; Error?: string };
    if (info.GoMod === undefined) throw new Error(`go mod download: ${info.Error ?? "no go.mod"}`);
    const upstreamMod = await readFile(info.GoMod, "utf8");
    const goLine = /^go (\S+)$/m.exec(upstreamMod)?.[1] ?? "1.26.10";
    await writeFile(
      join(work, "go.mod"),
      `module kcm-upstream-thanos\n\ngo ${goLine}\n\nrequire ${THANOS_MODULE} ${THANOS_VERSION}\n\n` +
        `${replaceDirectives(upstreamMod)}\n`,
    );
    await run(
      "go",
      [
        "build",
        "-trimpath",
        // As Thanos' own release build (.promu.yml): without `slicelabels` its gRPC codec
        // reads Prometheus labels with the wrong memory layout and the sidecar panics.
        "-tags=netgo,slicelabels",
        `-ldflags=-s -w -X github.com/prometheus/common/version.Version=${THANOS_VERSION.slice(1)}`,
        "-o",
        join(out, "thanos"),
        `${THANOS_MODULE}/cmd/thanos`,
      ],
      {
        cwd: work,
        env,
        progress: (l) => {
          progress(`  ${l}`);
        },
      },
    );
    await rename(join(out, "thanos"), bin);
    progress(`built ${bin} (${String(Math.round((Date.now() - t0) / 1000))} s)`);
  } finally {
    await rm(work, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
  }
  return bin;
}

export interface Replica {
  /** The replica label's value, e.g. `r0`. */
  readonly name: string;
  readonly prometheusUrl: string;
  /** Stops the sidecar and the Prometheus (the replica is lost). */
  stop(): Promise<void>;
}

export interface RunningThanos extends RunningBackend {
  readonly replicas: readonly Replica[];
}

async function startReplica(
  thanos: string,
  name: string,
  openMetrics: string,
): Promise<Replica & { sidecarGrpc: string; logs: () => string }> {
  const dir = await mkdtemp(join(tmpdir(), `kcm-thanos-${name}-`));
  const dataDir = join(dir, "data");
  const stopped: ChildProcess[] = [];
  const cleanup = async () => {
    for (const c of stopped.reverse()) await stopChild(c);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const input = join(dir, "input.om");
    const config = join(dir, "prometheus.yml");
    await writeFile(input, openMetrics);
    await writeFile(config, `global:\n  external_labels:\n    replica: ${name}\n`);
    await run(PROMTOOL, ["tsdb", "create-blocks-from", "openmetrics", input, dataDir]);
    const prom = await startOnFreePorts(
      `prometheus ${name}`,
      PROMETHEUS,
      1,
      ([port]) => [
        `--config.file=${config}`,
        `--storage.tsdb.path=${dataDir}`,
        "--storage.tsdb.retention.time=100y",
        `--web.listen-address=127.0.0.1:${String(port)}`,
      ],
      ([port], c, l) =>
        waitHttp(`prometheus ${name}`, `http://127.0.0.1:${String(port)}/-/ready`, c, l),
    );
    stopped.push(prom.child);
    const prometheusUrl = `http://127.0.0.1:${String(prom.ports[0])}`;
    const sidecar = await startOnFreePorts(
      `thanos sidecar ${name}`,
      thanos,
      2,
      ([grpc, http]) => [
        "sidecar",
        `--prometheus.url=${prometheusUrl}`,
        `--tsdb.path=${dataDir}`,
        `--grpc-address=127.0.0.1:${String(grpc)}`,
        `--http-address=127.0.0.1:${String(http)}`,
      ],
      ([, http], c, l) =>
        waitHttp(`thanos sidecar ${name}`, `http://127.0.0.1:${String(http)}/-/ready`, c, l),
    );
    stopped.push(sidecar.child);
    let down = false;
    return {
      name,
      prometheusUrl,
      sidecarGrpc: `127.0.0.1:${String(sidecar.ports[0])}`,
      logs: () => `--- prometheus ${name}\n${prom.log()}\n--- sidecar ${name}\n${sidecar.log()}`,
      async stop() {
        if (down) return;
        down = true;
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/**
 * Thanos Query over `replicas` (default 2) Prometheus replicas holding `openMetrics`, each with
 * the external label `replica`, deduplicated with `--query.replica-label=replica`. Ready once
 * every sidecar is listed as a healthy store.
 */
export async function startThanos(o: {
  readonly openMetrics: string;
  readonly replicas?: number;
}): Promise<RunningThanos> {
  const thanos = await ensureThanos();
  const count = o.replicas ?? 2;
  const replicas: Awaited<ReturnType<typeof startReplica>>[] = [];
  try {
    for (let i = 0; i < count; i++) {
      replicas.push(await startReplica(thanos, `r${String(i)}`, o.openMetrics));
    }
    const endpoints = replicas.map((r) => `  - address: ${r.sidecarGrpc}`).join("\n");
    const query = await startOnFreePorts(
      "thanos query",
      thanos,
      2,
      ([grpc, http]) => [
        "query",
        `--grpc-address=127.0.0.1:${String(grpc)}`,
        `--http-address=127.0.0.1:${String(http)}`,
        `--endpoint.sd-config=endpoints:\n${endpoints}\n`,
        "--query.replica-label=replica",
      ],
      async ([, http], c, l) => {
        const base = `http://127.0.0.1:${String(http)}`;
        await waitHttp("thanos query", `${base}/-/ready`, c, l);
        // The store list fills after the first health checks of the endpoints.
        await waitHttp("thanos query's stores", `${base}/api/v1/stores`, c, l, (body) => {
          const data = (JSON.parse(body) as { data?: Record<string, { lastError?: unknown }[]> })
            .data;
          const healthy = Object.values(data ?? {})
            .flat()
            .filter((s) => s.lastError === null || s.lastError === undefined);
          return healthy.length >= count;
        });
      },
    );
    return {
      url: `http://127.0.0.1:${String(query.ports[1])}`,
      replicas,
      logs: () => [`--- thanos query\n${query.log()}`, ...replicas.map((r) => r.logs())].join("\n"),
      async stop() {
        await stopChild(query.child);
        for (const r of replicas) await r.stop();
      },
    };
  } catch (e) {
    const logs = replicas.map((r) => r.logs()).join("\n");
    for (const r of replicas) await r.stop();
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${logs}`, { cause: e });
  }
}

// ---------------------------------------------------------------------------------------------
// Our adapter on a reference Prometheus and on a backend, side by side

/**
 * What a test file's `before` started, undone by its `after` in reverse order, also when `before`
 * failed midway (nothing is left running).
 */
export class Cleanup {
  readonly #steps: (() => Promise<unknown>)[] = [];

  /** Registers `r.stop()` and returns `r`. */
  stops<R extends { stop(): Promise<unknown> }>(r: R): R {
    this.#steps.push(() => r.stop());
    return r;
  }

  /** Registers a step of its own (not named `then`: that would make this a thenable). */
  defer(step: () => Promise<unknown>): void {
    this.#steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) await step().catch(() => undefined);
  }
}

export interface Comparison {
  /** Our adapter on the plain Prometheus, and the requests it sent there. */
  readonly ref: RunningAdapter;
  readonly refProxy: RecordingProxy;
  /** Our adapter on the backend under test, and the requests it sent there. */
  readonly got: RunningAdapter;
  readonly gotProxy: RecordingProxy;
  /** One request to each adapter, one after the other (each proxy sees only its own calls). */
  both(path: string): Promise<{ ref: Answer; got: Answer }>;
  stop(): Promise<void>;
}

async function ask(adapter: RunningAdapter, proxy: RecordingProxy, path: string): Promise<Answer> {
  const from = proxy.requests.length;
  const res = await fetch(`${adapter.url}${path}`, { signal: AbortSignal.timeout(30_000) });
  return answer(res.status, await res.text(), proxy.requests.slice(from));
}

/**
 * Starts our adapter twice with the same config and flags, once on `prometheusUrl` and once on
 * `backendUrl`, each through a recording proxy, and waits until both have discovered the
 * corpus' metrics and serve its Running pods.
 */
export async function startComparison(o: {
  readonly world: CorpusWorld;
  readonly kubeconfig: string;
  readonly config: string;
  readonly prometheusUrl: string;
  readonly backendUrl: string;
  readonly extraArgs?: readonly string[];
}): Promise<Comparison> {
  const refProxy = await startRecordingProxy(o.prometheusUrl);
  const gotProxy = await startRecordingProxy(o.backendUrl);
  const start = (url: string) =>
    startAdapter({
      prometheusUrl: url,
      kubeconfig: o.kubeconfig,
      config: o.config,
      // Short, so a test after a change (a lost replica) sees rediscovery; backfilled series
      // are old, so the max age is wide.
      relistInterval: "2s",
      maxAge: "1h",
      ...(o.extraArgs ? { extraArgs: o.extraArgs } : {}),
    });
  const [ref, got] = await Promise.all([start(refProxy.url), start(gotProxy.url)]);
  const c: Comparison = {
    ref,
    refProxy,
    got,
    gotProxy,
    async both(path) {
      return { ref: await ask(ref, refProxy, path), got: await ask(got, gotProxy, path) };
    },
    async stop() {
      await Promise.allSettled([ref.stop(), got.stop()]);
      await Promise.allSettled([refProxy.stop(), gotProxy.stop()]);
    },
  };
  try {
    await waitFor(
      "both adapters to list the corpus' metrics and serve its Running pods",
      async () => {
        for (const [path, has] of [
          [`${CM}/v1beta1`, '"name": "pods/cpu_load"'],
          [EM, '"name": "global_backlog"'],
          [`${MK}/namespaces/${o.world.ns}/pods`, `"name": "${o.world.webPods[1] ?? ""}"`],
        ] as const) {
          const p = await c.both(path);
          if (!p.ref.text.includes(has) || !p.got.text.includes(has)) return undefined;
        }
        return true;
      },
      90_000,
      500,
    );
  } catch (e) {
    await c.stop();
    throw e;
  }
  return c;
}

/** Endpoint paths (without query) of recorded requests. */
export function endpoints(requests: readonly RecordedRequest[]): Set<string> {
  return new Set(requests.map((r) => new URL(r.url, "http://x").pathname));
}

/** The PromQL of every instant query among `requests` (GET query string or POST form). */
export function promqlOf(requests: readonly RecordedRequest[]): string[] {
  return requests
    .filter((r) => r.url.startsWith("/api/v1/query"))
    .map((r) => {
      const u = new URL(r.url, "http://x");
      return (
        (r.method === "POST" ? new URLSearchParams(r.body) : u.searchParams).get("query") ?? ""
      );
    });
}

/** `match[]` parameters of recorded requests to `endpoint`. */
export function matchersSent(requests: readonly RecordedRequest[], endpoint: string): string[] {
  return requests.flatMap((r) => {
    const u = new URL(r.url, "http://x");
    if (u.pathname !== endpoint) return [];
    const params = r.method === "POST" ? new URLSearchParams(r.body) : u.searchParams;
    return params.getAll("match[]");
  });
}
