/**
 * @module bench/support/adapters
 * Both adapters under the same conditions, for side-by-side benchmarks: our compiled adapter,
 * started as the image starts it (support/deployed.ts: `node bin/k8s-custom-metrics.js serve` with
 * the image's NODE_OPTIONS, from what bench/run.ts builds) and prometheus-adapter v0.12.0
 * (test/support/upstream-adapter.ts), each with
 * - the same config file and the same Prometheus URL (optionally through a recording proxy each,
 *   to see and count the queries it sends),
 * - HTTPS on a free loopback port with a self-signed serving certificate (`--cert-dir`),
 * - delegated authentication and authorization against the local cluster's API server with the
 *   same kubeconfig (lister, TokenReview, SubjectAccessReview) and the same flags the registered
 *   adapter uses (src/harness/adapter-process.ts), the front-proxy CA and allowed names read from
 *   kube-system/extension-apiserver-authentication by both.
 *
 * Clients authenticate as the aggregator does ({@link aggregatorCredentials}): the front-proxy
 * client certificate plus `X-Remote-User` / `X-Remote-Group` of an ordinary RBAC user that
 * {@link ensureMetricsReader} allows to read the metrics APIs. Not `system:masters`: that group
 * short-circuits authorization, and the HPA's service account is not in it, so both adapters do
 * real SubjectAccessReviews, behind their 10 s authorization caches.
 *
 * @example
 * await ensureMetricsReader(info);
 * const creds = await aggregatorCredentials(info);
 * const ours = await startAdapter("ours", { info, config, prometheusUrl });
 * const r = await runLoad({ origin: ours.url, protocol: "h2", tls: creds.tls, headers: creds.headers },
 *   { path: "/apis/custom.metrics.k8s.io/v1beta2/..." }, { concurrency: 16, durationMs: 10_000, pid: ours.pid });
 * await ours.stop();
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { httpsGet as freshHttpsGet } from "../../test/support/http.ts";
import { applyObjects } from "../../test/support/objects.ts";
import { stopChild } from "../../test/support/process.ts";
import {
  freePort,
  startRecordingProxy,
  type RecordedRequest,
  type RecordingProxy,
} from "../../test/support/prometheus.ts";
import { startUpstreamAdapter } from "../../test/support/upstream-adapter.ts";
import { ourServe } from "./deployed.ts";
import { cpuSecondsOf, peakRssMbOf, resetPeakRss, rssMbOf } from "./load.ts";

const exec = promisify(execFile);

/** The ordinary user benchmark clients act as (through the front-proxy headers). */
export const BENCH_USER = "kcm-bench-hpa";
/** Groups the aggregator would forward for an authenticated, non-privileged user. */
export const BENCH_GROUPS: readonly string[] = ["system:authenticated"];
const READER_ROLE = "kcm-bench-metrics-reader";

export type Implementation = "ours" | "upstream";

export interface AdapterOptions {
  readonly info: ClusterInfo;
  /** A prometheus-adapter config file, given to both. */
  readonly config: string;
  readonly prometheusUrl: string;
  /** Put a recording proxy between the adapter and Prometheus (adds a hop: for counting). */
  readonly recordQueries?: boolean;
  /** Go duration; default 1h, so no relist lands inside a measurement. */
  readonly relistInterval?: string;
  /** Go duration; default 24h (backfilled fixtures may be hours old). */
  readonly maxAge?: string;
  /** Extra flags for the adapter (either implementation). */
  readonly extraArgs?: readonly string[];
  /**
   * Ours only: the script to run instead of the image's entrypoint (support/deployed.ts), e.g. an
   * older build's cli/main.js for A/B; it still gets the image's NODE_OPTIONS.
   */
  readonly main?: string;
  /** Ours only: flags for node itself besides NODE_OPTIONS, e.g. `--cpu-prof --cpu-prof-dir=…`. */
  readonly nodeArgs?: readonly string[];
  /** Kubeconfig for lister, authentication and authorization; default the cluster's admin one. */
  readonly kubeconfig?: string;
  /** How long to wait for /readyz; default 120 s. */
  readonly readyTimeoutMs?: number;
}

export interface RunningBenchAdapter {
  readonly implementation: Implementation;
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  readonly pid: number;
  /** Queries the adapter sent to Prometheus (only with `recordQueries`; else empty). */
  readonly queries: readonly RecordedRequest[];
  /** utime+stime of the process so far, in seconds. */
  cpuSeconds(): number;
  /** VmHWM in MiB (since start or the last {@link resetPeakRss}). */
  peakRssMb(): number;
  rssMb(): number;
  resetPeakRss(): boolean;
  /** One GET as the aggregator sends it (front-proxy cert, bench user); for checks, not load. */
  get(path: string, accept?: string): Promise<{ status: number; text: string }>;
  /** Last lines of its stdout/stderr. */
  logs(): string;
  /** Stops the process (SIGTERM, then SIGKILL) and its proxy; idempotent. */
  stop(): Promise<void>;
}

export interface AggregatorCredentials {
  readonly tls: { readonly cert: string; readonly key: string };
  /** X-Remote-User / X-Remote-Group of the bench user. */
  readonly headers: Readonly<Record<string, string | string[]>>;
}

/** The front-proxy client certificate and identity headers the aggregator would send. */
export async function aggregatorCredentials(info: ClusterInfo): Promise<AggregatorCredentials> {
  const [cert, key] = await Promise.all([
    readFile(info.pki.frontProxyClientCert, "utf8"),
    readFile(info.pki.frontProxyClientKey, "utf8"),
  ]);
  return {
    tls: { cert, key },
    headers: { "x-remote-user": BENCH_USER, "x-remote-group": [...BENCH_GROUPS] },
  };
}

async function kubectl(info: ClusterInfo, args: string[], input?: string): Promise<string> {
  const p = exec("kubectl", [`--kubeconfig=${info.kubeconfig}`, ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  if (input !== undefined) p.child.stdin?.end(input);
  return (await p).stdout;
}

/**
 * A ClusterRole like the HPA controller's (`system:controller:horizontal-pod-autoscaler`: get/list
 * on every custom and external metric, list on metrics.k8s.io pods) bound to {@link BENCH_USER};
 * waits until kube-apiserver's own SubjectAccessReview allows it, so no adapter caches a denial.
 */
export async function ensureMetricsReader(info: ClusterInfo): Promise<void> {
  await applyObjects(info, [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: READER_ROLE },
      rules: [
        {
          apiGroups: ["custom.metrics.k8s.io", "external.metrics.k8s.io"],
          resources: ["*"],
          verbs: ["get", "list"],
        },
        { apiGroups: ["metrics.k8s.io"], resources: ["pods", "nodes"], verbs: ["get", "list"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: READER_ROLE },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: READER_ROLE,
      },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: BENCH_USER }],
    },
  ]);
  const review = JSON.stringify({
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user: BENCH_USER,
      groups: [...BENCH_GROUPS],
      resourceAttributes: { verb: "list", group: "metrics.k8s.io", resource: "pods" },
    },
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const out = await kubectl(info, ["create", "-f", "-", "-o", "json"], review);
    if ((JSON.parse(out) as { status?: { allowed?: boolean } }).status?.allowed === true) return;
    if (Date.now() > deadline) throw new Error(`RBAC for ${BENCH_USER} did not become effective`);
    await sleep(250);
  }
}

function httpsGet(
  url: string,
  path: string,
  creds: AggregatorCredentials,
  accept: string,
): Promise<{ status: number; text: string }> {
  return freshHttpsGet({
    url,
    path,
    cert: creds.tls.cert,
    key: creds.tls.key,
    insecure: true,
    headers: { ...creds.headers, accept },
    timeoutMs: 30_000,
  });
}

function procReaders(pid: number) {
  return {
    cpuSeconds: () => cpuSecondsOf(pid),
    peakRssMb: () => peakRssMbOf(pid),
    rssMb: () => rssMbOf(pid),
    resetPeakRss: () => resetPeakRss(pid),
  };
}

async function startOurs(
  o: AdapterOptions,
  prometheusUrl: string,
  creds: AggregatorCredentials,
): Promise<Omit<RunningBenchAdapter, "queries">> {
  const kubeconfig = o.kubeconfig ?? o.info.kubeconfig;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const certDir = await mkdtemp(join(tmpdir(), "kcm-bench-certs-"));
    const url = `https://127.0.0.1:${String(port)}`;
    const serve = ourServe(
      [
        `--config=${o.config}`,
        `--prometheus-url=${prometheusUrl}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${String(port)}`,
        `--cert-dir=${certDir}`,
        `--lister-kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        `--metrics-relist-interval=${o.relistInterval ?? "1h"}`,
        `--metrics-max-age=${o.maxAge ?? "24h"}`,
        ...(o.extraArgs ?? []),
      ],
      { nodeArgs: o.nodeArgs, main: o.main },
    );
    const args = serve.args;
    const child = spawn(serve.command, args, { stdio: ["ignore", "pipe", "pipe"], env: serve.env });
    let log = "";
    const append = (d: Buffer) => {
      log = (log + d.toString()).slice(-200_000);
    };
    child.stdout.on("data", append);
    child.stderr.on("data", append);
    const pid = child.pid ?? 0;
    let stopped = false;
    // An adapter that ends on its own mid-scenario (out of heap, a crash) says why at once: its
    // output is otherwise only in memory, and lost when the bench is stopped.
    child.once("exit", (code, signal) => {
      if (stopped) return;
      process.stderr.write(
        `bench: our adapter (pid ${String(pid)}) ended on its own (${String(code ?? signal)}); its last output:\n${log.slice(-5000)}\n`,
      );
    });
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await stopChild(child);
      await rm(certDir, { recursive: true, force: true });
    };
    const deadline = Date.now() + (o.readyTimeoutMs ?? 120_000);
    while (Date.now() < deadline && child.exitCode === null) {
      const ok = await httpsGet(url, "/readyz", creds, "*/*")
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) {
        return {
          implementation: "ours",
          url,
          pid,
          ...procReaders(pid),
          get: (path, accept = "application/json") => httpsGet(url, path, creds, accept),
          logs: () => log,
          stop,
        };
      }
      await sleep(100);
    }
    await stop();
    if (attempt < 3 && log.includes("KCM_ERR_PORT_BUSY")) continue;
    throw new Error(`our adapter did not become ready (${args.join(" ")}):\n${log.slice(-5000)}`);
  }
}

async function startTheirs(
  o: AdapterOptions,
  prometheusUrl: string,
  creds: AggregatorCredentials,
): Promise<Omit<RunningBenchAdapter, "queries">> {
  const up = await startUpstreamAdapter({
    info: o.info,
    prometheusUrl,
    config: o.config,
    relistInterval: o.relistInterval ?? "1h",
    maxAge: o.maxAge ?? "24h",
    extraArgs: o.extraArgs ?? [],
    identity: { user: BENCH_USER, groups: BENCH_GROUPS },
    ...(o.kubeconfig === undefined ? {} : { kubeconfig: o.kubeconfig }),
  });
  let stopped = false;
  return {
    implementation: "upstream",
    url: up.url,
    pid: up.pid,
    ...procReaders(up.pid),
    get: (path, accept = "application/json") => httpsGet(up.url, path, creds, accept),
    logs: () => up.logs(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await up.stop();
    },
  };
}

/**
 * Starts one adapter and waits for `/readyz`. Ours is ready after its first discovery; upstream's
 * readiness does not wait for discovery, so callers should also wait until the metrics they will
 * ask for answer 200 (e.g. with {@link waitForOk}).
 */
export async function startAdapter(
  implementation: Implementation,
  o: AdapterOptions,
): Promise<RunningBenchAdapter> {
  const creds = await aggregatorCredentials(o.info);
  let proxy: RecordingProxy | undefined;
  if (o.recordQueries === true) proxy = await startRecordingProxy(o.prometheusUrl);
  const promUrl = proxy?.url ?? o.prometheusUrl;
  try {
    const a =
      implementation === "ours"
        ? await startOurs(o, promUrl, creds)
        : await startTheirs(o, promUrl, creds);
    return {
      ...a,
      queries: proxy?.requests ?? [],
      async stop() {
        await a.stop();
        await proxy?.stop();
      },
    };
  } catch (e) {
    await proxy?.stop();
    throw e;
  }
}

/** Polls `path` until it answers 200 (returns the body) or `timeoutMs` passes (throws). */
export async function waitForOk(
  adapter: RunningBenchAdapter,
  path: string,
  timeoutMs = 120_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await adapter.get(path).catch((e: unknown) => ({ status: 0, text: String(e) }));
    if (r.status === 200) return r.text;
    const last = `${String(r.status)} ${r.text.slice(0, 300)}`;
    if (Date.now() > deadline) {
      throw new Error(`${adapter.implementation}: GET ${path} never answered 200; last: ${last}`);
    }
    await sleep(500);
  }
}
