/**
 * @module diagnostics/scrape-intervals
 * How often Prometheus scrapes each job: from `/api/v1/targets` (each active target's
 * `scrapeInterval`), falling back to the global `scrape_interval` of `/api/v1/status/config`.
 * The Prometheus client has no call for these status endpoints (the adapter never needs them), so
 * they are read here, with the same URL, headers, token and TLS options.
 */
import { parse } from "yaml";
import { parsePromDuration } from "../config/duration.ts";
import { Agent } from "../http/undici.ts";
import { BearerTokenSource } from "../prometheus/bearer-token.ts";
import { resolveOptions, type PrometheusClientOptions } from "../prometheus/options.ts";
import { joinPath } from "../prometheus/request-url.ts";
import type { ScrapeInterval } from "./static-checks.ts";

export interface ScrapeIntervals {
  /** The longest interval among each job's active targets. */
  readonly byJob: ReadonlyMap<string, number>;
  /** `global.scrape_interval`, when the config could be read. */
  readonly global: number | undefined;
}

function durationMs(v: unknown): number | undefined {
  if (typeof v !== "string") return undefined;
  try {
    return parsePromDuration(v);
  } catch {
    return undefined;
  }
}

/** Job → interval from a `/api/v1/targets` answer; targets without an interval are skipped. */
export function intervalsFromTargets(body: unknown): Map<string, number> {
  const out = new Map<string, number>();
  const targets = (body as { data?: { activeTargets?: unknown } } | null)?.data?.activeTargets;
  if (!Array.isArray(targets)) return out;
  for (const t of targets as { labels?: Record<string, unknown>; scrapeInterval?: unknown }[]) {
    const job = t.labels?.["job"];
    const ms = durationMs(t.scrapeInterval);
    if (typeof job !== "string" || ms === undefined) continue;
    out.set(job, Math.max(ms, out.get(job) ?? 0));
  }
  return out;
}

/** `global.scrape_interval` from a `/api/v1/status/config` answer (Prometheus' default is 1m). */
export function globalIntervalFromConfig(body: unknown): number | undefined {
  const yaml = (body as { data?: { yaml?: unknown } } | null)?.data?.yaml;
  if (typeof yaml !== "string") return undefined;
  try {
    const cfg = parse(yaml) as { global?: { scrape_interval?: unknown } } | null;
    return durationMs(cfg?.global?.scrape_interval) ?? 60_000;
  } catch {
    return undefined;
  }
}

/**
 * The interval that matters for a rule reading series of `jobs`: the longest of theirs (a window
 * must hold two samples of the slowest), else the global one.
 */
export function intervalForJobs(
  intervals: ScrapeIntervals,
  jobs: readonly string[],
): ScrapeInterval | undefined {
  let best: { job: string; ms: number } | undefined;
  for (const job of jobs) {
    const ms = intervals.byJob.get(job);
    if (ms !== undefined && (best === undefined || ms > best.ms)) best = { job, ms };
  }
  if (best !== undefined) {
    const others = jobs.length > 1 ? `, the slowest of ${String(jobs.length)} jobs` : "";
    return { ms: best.ms, source: `scrape interval of job ${best.job}${others}` };
  }
  if (intervals.global !== undefined) {
    return { ms: intervals.global, source: "Prometheus' global scrape_interval" };
  }
  return undefined;
}

/** Reads both status endpoints; either may fail (Thanos and Mimir serve neither). */
export async function readScrapeIntervals(
  options: PrometheusClientOptions,
): Promise<ScrapeIntervals> {
  const o = await resolveOptions(options);
  const token =
    o.bearerTokenFile === undefined
      ? undefined
      : await BearerTokenSource.open(o.bearerTokenFile, o.bearerTokenRefreshMs);
  const agent = new Agent({
    connect: { ...o.tls, rejectUnauthorized: !o.insecureSkipVerify, timeout: o.timeoutMs },
    headersTimeout: o.timeoutMs,
    bodyTimeout: o.timeoutMs,
  });
  const get = async (endpoint: string, query = ""): Promise<unknown> => {
    const headers: Record<string, string> = { "user-agent": "k8s-custom-metrics", ...o.headers };
    if (token) headers["authorization"] = `Bearer ${await token.token()}`;
    const url = new URL(o.url.href);
    url.username = "";
    url.password = "";
    url.pathname = joinPath(o.url.pathname, endpoint);
    url.search = [o.url.search.replace(/^\?/, ""), query].filter((s) => s !== "").join("&");
    if (o.url.username !== "" && token === undefined && !("authorization" in headers)) {
      // As the client does: URL user info becomes basic auth.
      const user = `${decodeURIComponent(o.url.username)}:${decodeURIComponent(o.url.password)}`;
      headers["authorization"] = `Basic ${Buffer.from(user).toString("base64")}`;
    }
    try {
      const res = await agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: "GET",
        headers,
      });
      const text = await res.body.text();
      return res.statusCode === 200 ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      return undefined;
    }
  };
  try {
    const [targets, config] = await Promise.all([
      get("/api/v1/targets", "state=active"),
      get("/api/v1/status/config"),
    ]);
    return { byJob: intervalsFromTargets(targets), global: globalIntervalFromConfig(config) };
  } finally {
    await agent.close();
  }
}
