/**
 * @module test/chaos/suite
 * The fault suite (issue #18 item 3). On a local cluster: the seed workload (examples/seed: nginx
 * and an HPA on `memory_usage_bytes`, scaled to 2), the cluster's adapter restarted with a fault
 * proxy between it and Prometheus, and HPA-shaped load through the kube-apiserver's aggregator
 * for the whole run. Then, one after the other, each fault: Prometheus refused, slow past
 * `--prometheus-timeout`, hanging; 2,000 half-open connections and 1,000 concurrent HTTP/2
 * streams at the adapter's port; kube-apiserver and etcd restarted (SIGTERM, their watchdog
 * starts them again); the adapter SIGKILLed (its watchdog starts it again).
 *
 * Per fault: the load's failed requests and their outcomes, the longest request, the time from
 * the fault's end until requests succeed again, the adapter's RSS and fds before and after, the
 * Deployment's replicas seen throughout, and whether the adapter kept its pid. Afterwards the
 * cluster's usual adapter is started again, so the cluster is left as it was found.
 */
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { startAdapter } from "../../src/harness/adapter-process.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { statePaths } from "../../src/harness/paths.ts";
import { returns200 } from "../../src/harness/probe.ts";
import { Supervisor } from "../../src/harness/supervisor.ts";
import { startFaultProxy, type FaultProxy } from "./fault-proxy.ts";
import { halfOpen, streamFlood } from "./floods.ts";
import { HpaLoad, type LoadRecord } from "./hpa-load.ts";
import { componentPid, KubeAdmin, usage, type Usage } from "./observe.ts";
import { kubectl } from "../support/cluster.ts";

/** The adapter's relist interval here (the harness default); recovery goal: this plus 5 s. */
export const RELIST_MS = 10_000;
export const RECOVERY_GOAL_MS = RELIST_MS + 5_000;
/** --prometheus-timeout of the adapter under test; the slow Prometheus answers later than this. */
const PROMETHEUS_TIMEOUT_MS = 5_000;

export interface ChaosOptions {
  readonly info: ClusterInfo;
  /** `short`: CI (faults of 15 s); `full`: `npm run chaos` (a 2-minute Prometheus outage…). */
  readonly form: "short" | "full";
  readonly log: (line: string) => void;
  /** Only these cases (by name); all by default. */
  readonly only?: readonly string[];
}

export interface CaseResult {
  readonly name: string;
  readonly fault: string;
  readonly faultSeconds: number;
  readonly requests: number;
  readonly failed: number;
  /** Failed requests that started and ended before the fault began. */
  readonly failedBefore: number;
  /** Failed requests that started and ended before the fault, or started after fault end + goal. */
  readonly failedOutside: number;
  readonly outcomes: Record<string, number>;
  readonly longestMs: number;
  /** From the fault's end until requests succeed again; 0 if none failed after it. */
  readonly recoveryMs: number;
  readonly before: Usage | undefined;
  readonly after: Usage | undefined;
  /** Highest fd count seen while the fault lasted. */
  readonly peakFds: number | undefined;
  readonly replicasSeen: readonly number[];
  readonly hpaKept: boolean;
  readonly adapterRestarted: boolean;
  readonly notes: string;
}

interface Context {
  readonly info: ClusterInfo;
  readonly kube: KubeAdmin;
  readonly proxy: FaultProxy;
  readonly ns: string;
  readonly metricPath: string;
  readonly form: "short" | "full";
}

interface FaultCase {
  readonly name: string;
  readonly fault: string;
  /** Brings the fault about and ends it; resolves at the fault's end, with notes. */
  run(c: Context, sampleFds: () => Promise<void>): Promise<string>;
}

const hold = (c: Context, shortMs: number, fullMs: number) =>
  c.form === "short" ? shortMs : fullMs;

async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms: ${what}`);
    await sleep(250);
  }
}

/** Holds a fault for `ms`, sampling the adapter's fds every second. */
async function holdFor(ms: number, sampleFds: () => Promise<void>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await sampleFds();
    await sleep(Math.min(1_000, Math.max(0, end - Date.now())));
  }
}

/** SIGTERM to a supervised component; resolves once its watchdog has it running and `ready`. */
async function restartComponent(
  c: Context,
  name: string,
  signal: NodeJS.Signals,
  ready: () => Promise<boolean>,
): Promise<string> {
  const pid = await componentPid(c.info, name);
  if (pid === undefined) throw new Error(`${name} is not running`);
  const t0 = Date.now();
  process.kill(pid, signal);
  let next: number | undefined;
  await waitUntil(
    `${name} to be started again`,
    async () => {
      next = await componentPid(c.info, name);
      return next !== undefined && next !== pid;
    },
    120_000,
  );
  await waitUntil(`${name} to be ready`, ready, 120_000);
  return `${signal} pid ${String(pid)}; back as pid ${String(next)} and ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

const CASES: readonly FaultCase[] = [
  {
    name: "prometheus-stopped",
    fault: "Prometheus stopped (its address refuses connections)",
    async run(c, sample) {
      await c.proxy.set({ kind: "refuse" });
      await holdFor(hold(c, 15_000, 120_000), sample);
      await c.proxy.set({ kind: "pass" });
      return "";
    },
  },
  {
    name: "prometheus-slow",
    fault: `Prometheus slow (answers ${String((PROMETHEUS_TIMEOUT_MS + 3_000) / 1000)} s late; --prometheus-timeout=${String(PROMETHEUS_TIMEOUT_MS / 1000)}s)`,
    async run(c, sample) {
      await c.proxy.set({ kind: "delay", ms: PROMETHEUS_TIMEOUT_MS + 3_000 });
      await holdFor(hold(c, 15_000, 60_000), sample);
      await c.proxy.set({ kind: "pass" });
      return "";
    },
  },
  {
    name: "prometheus-hanging",
    fault: "Prometheus hanging (accepts connections, never answers)",
    async run(c, sample) {
      await c.proxy.set({ kind: "hang" });
      await holdFor(hold(c, 15_000, 60_000), sample);
      await c.proxy.set({ kind: "pass" });
      return "";
    },
  },
  {
    name: "half-open-connections",
    fault: "2,000 half-open connections to the adapter (5 bytes of a TLS header, then silence)",
    async run(c, sample) {
      const h = await halfOpen(c.info.ports.adapter, 2_000);
      await holdFor(hold(c, 10_000, 30_000), sample);
      h.release();
      return `${String(h.opened)} connections opened and held`;
    },
  },
  {
    name: "http2-streams",
    fault: "1,000 concurrent HTTP/2 streams at the adapter (10 connections × 100 requests)",
    async run(c, sample) {
      const timer = setInterval(() => void sample(), 1_000);
      try {
        const f = await streamFlood(c.info, c.info.ports.adapter, c.metricPath, 10, 100);
        const outcomes = Object.entries(f.outcomes)
          .map(([k, n]) => `${k}×${String(n)}`)
          .join(", ");
        return `flood answers: ${outcomes}; longest ${(f.longestMs / 1000).toFixed(1)} s`;
      } finally {
        clearInterval(timer);
      }
    },
  },
  {
    name: "kube-apiserver-restart",
    fault: "kube-apiserver restarted (SIGTERM; its watchdog starts it again)",
    run: (c) => restartComponent(c, "kube-apiserver", "SIGTERM", () => c.kube.ok("/readyz")),
  },
  {
    name: "etcd-restart",
    fault: "etcd restarted (SIGTERM; its watchdog starts it again)",
    run: (c) => restartComponent(c, "etcd", "SIGTERM", () => c.kube.ok("/readyz/etcd")),
  },
  {
    name: "adapter-sigkill",
    fault: "the adapter SIGKILLed (its watchdog starts it again)",
    run: (c) =>
      restartComponent(c, "adapter", "SIGKILL", () =>
        returns200(`https://127.0.0.1:${String(c.info.ports.adapter)}/readyz`, {
          insecure: true,
        }).catch(() => false),
      ),
  },
];

export const CASE_NAMES = CASES.map((c) => c.name);

async function replicas(c: Context): Promise<number | undefined> {
  try {
    const r = await c.kube.get(`/apis/apps/v1/namespaces/${c.ns}/deployments/nginx`, 3_000);
    if (r.status !== 200) return undefined;
    return (JSON.parse(r.body) as { spec?: { replicas?: number } }).spec?.replicas;
  } catch {
    return undefined;
  }
}

function tally(records: readonly LoadRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) if (!r.ok) out[r.outcome] = (out[r.outcome] ?? 0) + 1;
  return out;
}

/** Start of the first success after the last failure that started at or after `from`. */
function recovery(records: readonly LoadRecord[], from: number): number {
  const after = records.filter((r) => r.start >= from).sort((a, b) => a.start - b.start);
  let lastFail = -1;
  after.forEach((r, i) => {
    if (!r.ok) lastFail = i;
  });
  if (lastFail < 0) return 0;
  const next = after[lastFail + 1];
  return next === undefined ? Number.POSITIVE_INFINITY : next.start - from;
}

async function setup(o: ChaosOptions, kube: KubeAdmin, proxy: FaultProxy) {
  const { info } = o;
  const ns = `chaos-${Date.now().toString(36)}`;
  await kubectl(info, ["create", "namespace", ns]);
  await kubectl(
    info,
    ["-n", ns, "apply", "-f", "-"],
    await readFile("examples/seed/nginx.yaml", "utf8"),
  );
  // The cluster's adapter, restarted to reach Prometheus through the fault proxy.
  const p = statePaths(info.stateDir);
  await new Supervisor(p.logs, p.run).stop("adapter");
  o.log(`adapter: restarting it with --prometheus-url=${proxy.url}`);
  await startAdapter(info, {
    extraArgs: [
      `--prometheus-url=${proxy.url}`,
      `--prometheus-timeout=${String(PROMETHEUS_TIMEOUT_MS / 1000)}s`,
    ],
  });
  const metricPath = `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns}/pods/*/memory_usage_bytes?labelSelector=app%3Dnginx`;
  o.log(`seed: waiting for the HPA in ${ns} to scale nginx to 2`);
  const t0 = Date.now();
  let seen: number | undefined;
  while ((seen = await replicas({ info, kube, proxy, ns, metricPath, form: o.form })) !== 2) {
    if (Date.now() - t0 > 300_000) {
      throw new Error(`the seed HPA did not scale nginx to 2 in 300 s (replicas ${String(seen)})`);
    }
    await sleep(1_000);
  }
  o.log(`seed: 2 replicas after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return { ns, metricPath };
}

/** Runs the suite; always puts the cluster's usual adapter back. */
export async function runChaos(o: ChaosOptions): Promise<CaseResult[]> {
  const { info } = o;
  const kube = await KubeAdmin.create(info);
  const proxy = await startFaultProxy(info.prometheusUrl);
  const results: CaseResult[] = [];
  let load: HpaLoad | undefined;
  let ns: string | undefined;
  // Ends the replica watcher of a case that threw midway.
  const run = { finished: false };
  try {
    const s = await setup(o, kube, proxy);
    ns = s.ns;
    const c: Context = { info, kube, proxy, ns, metricPath: s.metricPath, form: o.form };
    load = new HpaLoad(kube, s.metricPath, o.form === "short" ? 10 : 20);
    await sleep(5_000);
    for (const fc of CASES.filter((x) => o.only === undefined || o.only.includes(x.name))) {
      o.log(`${fc.name}: ${fc.fault}`);
      const pid = await componentPid(info, "adapter");
      const before = pid === undefined ? undefined : await usage(pid);
      const seen = new Set<number>();
      const watch = { on: true };
      const watcher = (async () => {
        while (watch.on && !run.finished) {
          const r = await replicas(c);
          if (r !== undefined) seen.add(r);
          await sleep(1_000);
        }
      })();
      const initial = await replicas(c);
      let peakFds: number | undefined;
      const sampleFds = async () => {
        const p = await componentPid(info, "adapter");
        const u = p === undefined ? undefined : await usage(p);
        if (u) peakFds = Math.max(peakFds ?? 0, u.fds);
      };
      // A quiet moment first: the failures of one case must not spill into the next.
      const baselineStart = Date.now();
      await sleep(5_000);
      const faultStart = Date.now();
      let notes: string;
      try {
        notes = await fc.run(c, sampleFds);
      } catch (e) {
        // Reported in the case's row (and failing the test), then on to the next case.
        notes = `the fault did not run to its end: ${e instanceof Error ? e.message : String(e)}`;
      }
      const faultEnd = Date.now();
      // Recovered: 10 s after the fault, and every request of the last 5 s answered well.
      const deadline = faultEnd + 120_000;
      for (;;) {
        await sleep(1_000);
        const now = Date.now();
        const recent = load.between(now - 5_000, now - 1_000);
        if (now - faultEnd >= 10_000 && recent.length > 0 && recent.every((r) => r.ok)) break;
        if (now > deadline) break;
      }
      // Requests in flight at this point end within their 30 s timeout; wait for them.
      const caseEnd = Date.now();
      await load.settled(caseEnd);
      watch.on = false;
      await watcher;
      const pidAfter = await componentPid(info, "adapter");
      const after = pidAfter === undefined ? undefined : await usage(pidAfter);
      const records = load.between(baselineStart, caseEnd);
      const failed = records.filter((r) => !r.ok);
      const outside = failed.filter(
        (r) =>
          (r.start < faultStart && r.start + r.ms < faultStart) ||
          r.start > faultEnd + RECOVERY_GOAL_MS,
      );
      const result: CaseResult = {
        name: fc.name,
        fault: fc.fault,
        faultSeconds: (faultEnd - faultStart) / 1000,
        requests: records.length,
        failed: failed.length,
        failedBefore: failed.filter((r) => r.start + r.ms < faultStart).length,
        failedOutside: outside.length,
        outcomes: tally(records),
        longestMs: Math.max(0, ...records.map((r) => r.ms)),
        recoveryMs: recovery(records, faultEnd),
        before,
        after,
        peakFds,
        replicasSeen: [...seen].sort(),
        hpaKept: initial !== undefined && [...seen].every((r) => r === initial),
        adapterRestarted: pid !== pidAfter,
        notes,
      };
      results.push(result);
      o.log(`${fc.name}: ${JSON.stringify(result)}`);
    }
    return results;
  } finally {
    run.finished = true;
    await load?.stop();
    await proxy.set({ kind: "pass" }).catch(() => undefined);
    // The cluster's usual adapter again, reaching Prometheus directly.
    const p = statePaths(info.stateDir);
    await new Supervisor(p.logs, p.run).stop("adapter").catch(() => undefined);
    await startAdapter(info).catch((e: unknown) => {
      o.log(`could not start the usual adapter again: ${String(e)}`);
    });
    await proxy.stop();
    if (ns !== undefined) {
      await kubectl(info, ["delete", "namespace", ns, "--wait=false"]).catch(() => undefined);
    }
    kube.close();
  }
}

const s1 = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : "not recovered");
const usageText = (u: Usage | undefined) =>
  u === undefined ? "–" : `${u.rssMb.toFixed(0)} MB / ${String(u.fds)}`;

/** The fault table, as markdown. */
export function faultTable(results: readonly CaseResult[]): string {
  const rows = results.map((r) => {
    const codes = Object.entries(r.outcomes)
      .map(([k, n]) => `${k}×${String(n)}`)
      .join(", ");
    return `| ${r.fault} | ${r.faultSeconds.toFixed(1)} s | ${String(r.requests)} | ${String(r.failed)}${codes === "" ? "" : ` (${codes})`} | ${String(r.failedOutside)} | ${s1(r.longestMs)} | ${s1(r.recoveryMs)} | ${usageText(r.before)} | ${usageText(r.after)} (peak fds ${String(r.peakFds ?? "–")}) | ${r.hpaKept ? "yes" : "no"} (${r.replicasSeen.join(", ")}) | ${r.adapterRestarted ? "yes" : "no"} |`;
  });
  return [
    "| fault | fault lasted | requests | failed (outcomes) | failed outside the fault window | longest request | recovery after the fault | adapter RSS / fds before | after | seed HPA kept its replicas (seen) | adapter restarted |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
