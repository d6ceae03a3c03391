/**
 * @module bench/soak
 * The soak (issue #18 item 4): our compiled adapter answers HPA-shaped requests at the HPA fleet's
 * rate (1,000 HPAs synced every 15 s: 67 requests/s, open loop, as bench/fleet.ts) for an hour,
 * and we watch what a leak would show: RSS (sampled every 30 s; the slope, by least squares over
 * everything after the first window, in MB/h), open file descriptors, and latency p50/p99 by
 * 10-minute window. Requests go over HTTP/2 with the aggregator's front-proxy credentials, a third
 * each: `pods/*` picking 10 pods, `pods/*` picking 100, a Service's object metric. Relists run
 * every minute, as a deployment's would.
 *
 * SOAK_MINUTES shortens the run (default 60; windows are a sixth of it, at most 10 minutes).
 */
import { connect as http2Connect, type ClientHttp2Session } from "node:http2";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startPrometheus } from "../test/support/prometheus.ts";
import {
  aggregatorCredentials,
  ensureMetricsReader,
  startAdapter,
  waitForOk,
  type AggregatorCredentials,
} from "./support/adapters.ts";
import {
  BENCH_NAMESPACE,
  BENCH_SERVICE,
  benchConfigYaml,
  benchOpenMetrics,
  createBenchObjects,
  deleteBenchObjects,
  podSelector,
} from "./support/fixtures.ts";
import type { BenchContext, Scenario, ScenarioResult } from "./scenario.ts";

const MINUTES = Math.max(1, Number(process.env["SOAK_MINUTES"] ?? "60"));
const WINDOW_MS = Math.min(10, MINUTES / 6) * 60_000;
/** The fleet's rate: 1,000 HPAs, each once per 15 s. */
const RATE = 1000 / 15;
const PODS = 100;
const SAMPLE_MS = 30_000;
const CM = "/apis/custom.metrics.k8s.io/v1beta2";

const PATHS = [
  `${CM}/namespaces/${BENCH_NAMESPACE}/pods/*/bench_http_requests_per_second?labelSelector=${encodeURIComponent(podSelector(10))}`,
  `${CM}/namespaces/${BENCH_NAMESPACE}/pods/*/bench_http_requests_per_second?labelSelector=${encodeURIComponent(podSelector(100))}`,
  `${CM}/namespaces/${BENCH_NAMESPACE}/services/${BENCH_SERVICE}/bench_service_queue_length`,
];

interface Sample {
  readonly at: number;
  readonly ms: number;
  readonly ok: boolean;
}

interface Usage {
  readonly at: number;
  readonly rssMb: number;
  readonly fds: number;
}

function fdsOf(pid: number): number {
  try {
    return readdirSync(`/proc/${String(pid)}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Least-squares slope of RSS against time, in MB per hour. */
export function slopeMbPerHour(points: readonly Usage[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const xs = points.map((p) => p.at / 3_600_000);
  const ys = points.map((p) => p.rssMb);
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * ((ys[i] ?? 0) - my);
    den += (x - mx) ** 2;
  });
  return den === 0 ? Number.NaN : num / den;
}

function session(url: string, creds: AggregatorCredentials): ClientHttp2Session {
  const s = http2Connect(url, {
    cert: creds.tls.cert,
    key: creds.tls.key,
    rejectUnauthorized: false,
  });
  s.on("error", () => undefined);
  return s;
}

function get(s: ClientHttp2Session, path: string, creds: AggregatorCredentials): Promise<boolean> {
  return new Promise((resolve) => {
    let status = 0;
    const req = s.request({ ":path": path, ...creds.headers });
    req.setTimeout(30_000, () => {
      req.close();
    });
    req.on("response", (h) => (status = Number(h[":status"])));
    req.on("data", () => undefined);
    req.on("close", () => {
      resolve(status === 200);
    });
    req.on("error", () => {
      resolve(false);
    });
    req.end();
  });
}

export const soak: Scenario = {
  name: "soak",
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const dir = mkdtempSync(join(tmpdir(), "kcm-soak-"));
    const config = join(dir, "config.yaml");
    writeFileSync(config, benchConfigYaml());
    const prom = await startPrometheus({
      openMetrics: benchOpenMetrics(PODS, Date.now(), (MINUTES + 30) * 60_000),
    });
    await ensureMetricsReader(ctx.info);
    await createBenchObjects(ctx.info, PODS);
    const creds = await aggregatorCredentials(ctx.info);
    const adapter = await startAdapter("ours", {
      info: ctx.info,
      config,
      prometheusUrl: prom.url,
      relistInterval: "1m",
    });
    try {
      for (const p of PATHS) await waitForOk(adapter, p);
      let s = session(adapter.url, creds);
      const samples: Sample[] = [];
      const usage: Usage[] = [];
      const start = Date.now();
      const end = start + MINUTES * 60_000;
      ctx.log(`soak: ${String(MINUTES)} min at ${RATE.toFixed(1)} requests/s`);
      const sampler = setInterval(() => {
        usage.push({ at: Date.now(), rssMb: adapter.rssMb(), fds: fdsOf(adapter.pid) });
      }, SAMPLE_MS);
      usage.push({ at: start, rssMb: adapter.rssMb(), fds: fdsOf(adapter.pid) });
      const inFlight = new Set<Promise<void>>();
      let k = 0;
      // Open loop on a fixed schedule: request k goes out at start + k / RATE.
      while (Date.now() < end) {
        const due = start + (k * 1000) / RATE;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
        if (s.closed || s.destroyed) s = session(adapter.url, creds);
        const t0 = Date.now();
        const p = get(s, PATHS[k % PATHS.length] ?? "", creds).then((ok) => {
          samples.push({ at: t0, ms: Date.now() - t0, ok });
        });
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        k++;
        if (k % Math.round(RATE * 60) === 0) {
          const last = usage[usage.length - 1];
          ctx.log(
            `soak: ${String(Math.round((Date.now() - start) / 60_000))} min, ${String(samples.length)} answered, RSS ${last?.rssMb.toFixed(0) ?? "?"} MB, fds ${String(last?.fds ?? "?")}`,
          );
        }
      }
      await Promise.race([Promise.all(inFlight), sleep(35_000)]);
      clearInterval(sampler);
      usage.push({ at: Date.now(), rssMb: adapter.rssMb(), fds: fdsOf(adapter.pid) });
      s.destroy();

      const windows = Array.from({ length: Math.ceil((MINUTES * 60_000) / WINDOW_MS) }, (_, w) => {
        const inWin = samples.filter(
          (x) => x.at >= start + w * WINDOW_MS && x.at < start + (w + 1) * WINDOW_MS,
        );
        const ms = inWin.map((x) => x.ms).sort((a, b) => a - b);
        const u = usage.filter(
          (x) => x.at >= start + w * WINDOW_MS && x.at < start + (w + 1) * WINDOW_MS,
        );
        return {
          window: w + 1,
          requests: inWin.length,
          errors: inWin.filter((x) => !x.ok).length,
          p50Ms: percentile(ms, 50),
          p99Ms: percentile(ms, 99),
          rssMb: u.length > 0 ? Math.max(...u.map((x) => x.rssMb)) : Number.NaN,
          fds: u.length > 0 ? Math.max(...u.map((x) => x.fds)) : Number.NaN,
        };
      });
      // The first window warms up (JIT, caches, heap growth): the slope starts after it.
      const steady = usage.filter((x) => x.at >= start + WINDOW_MS);
      const slope = slopeMbPerHour(steady);
      const fdsFirst = usage[0]?.fds ?? NaN;
      const fdsLast = usage[usage.length - 1]?.fds ?? NaN;
      const fdsMax = Math.max(...usage.map((x) => x.fds));
      const json = {
        minutes: MINUTES,
        ratePerSecond: RATE,
        requests: samples.length,
        errors: samples.filter((x) => !x.ok).length,
        rssSlopeMbPerHour: slope,
        rssFirstMb: usage[0]?.rssMb,
        rssLastMb: usage[usage.length - 1]?.rssMb,
        fds: { first: fdsFirst, last: fdsLast, max: fdsMax },
        windows,
      };
      const rows = windows.map(
        (w) =>
          `| ${String(w.window)} | ${String(w.requests)} | ${String(w.errors)} | ${w.p50Ms.toFixed(0)} ms | ${w.p99Ms.toFixed(0)} ms | ${Number.isNaN(w.rssMb) ? "–" : `${w.rssMb.toFixed(0)} MB`} | ${Number.isNaN(w.fds) ? "–" : String(w.fds)} |`,
      );
      const markdown = [
        `## Soak (${String(MINUTES)} min at the HPA fleet's rate)`,
        "",
        `Our compiled adapter, ${RATE.toFixed(1)} requests/s open loop over HTTP/2 with the aggregator's credentials (a third each: \`pods/*\` of 10 pods, of 100 pods, a Service's object metric), relist every minute, ${String(PODS)} pods. RSS and open fds from /proc every 30 s; the RSS slope is a least-squares fit after the first window (warm-up). Goals: slope under 5 MB/h, no fd growth.`,
        "",
        `RSS slope **${slope.toFixed(2)} MB/h** (${json.rssFirstMb?.toFixed(0) ?? "?"} MB at start, ${json.rssLastMb?.toFixed(0) ?? "?"} MB at the end); open fds ${String(fdsFirst)} at start, ${String(fdsLast)} at the end, at most ${String(fdsMax)}; ${String(json.requests)} requests, ${String(json.errors)} errors.`,
        "",
        `| window (${(WINDOW_MS / 60_000).toFixed(WINDOW_MS % 60_000 === 0 ? 0 : 1)} min) | requests | errors | p50 | p99 | max RSS | max fds |`,
        "| --- | --- | --- | --- | --- | --- | --- |",
        ...rows,
      ].join("\n");
      return { json, markdown };
    } finally {
      await adapter.stop();
      await prom.stop();
      await deleteBenchObjects(ctx.info).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
