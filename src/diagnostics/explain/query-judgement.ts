/**
 * @module diagnostics/explain/query-judgement
 * What a rendered query's result says: an error (the server down, the query refused), no vector,
 * no sample for the objects and why (not scraped, a rate window shorter than two scrapes, a
 * matcher or `by` clause that drops them), NaN, or stale series. The raw series' age and the
 * scrape interval tell those apart.
 */
import { DEFAULT_SERVER } from "../../observability/server-label.ts";
import type { PrometheusClient } from "../../prometheus/client.ts";
import { isPrometheusError } from "../../prometheus/errors.ts";
import { alternationRegex, labelMatcher, metricSelector } from "../../promql/matchers.ts";
import { rateWindows } from "../rate-windows.ts";
import { intervalForJobs, readScrapeIntervals } from "../scrape-intervals.ts";
import type { Chain } from "./chain.ts";
import type { ExplainContext } from "./context.ts";
import { errorText, sample, unreachableFix, unreachableTitle } from "./text.ts";
import type { QueryInput, QueryRule } from "./types.ts";

/** Judges a rendered query's result; false when this link is broken. */
export async function judgeQuery(
  cx: ExplainContext,
  prom: PrometheusClient,
  q: QueryInput,
  qr: QueryRule,
  query: string,
  chain: Chain,
): Promise<boolean> {
  const { ask, seriesName, names } = q;
  let result;
  try {
    result = await prom.query(query, cx.now);
  } catch (e) {
    const unreachable = isPrometheusError(e) && (e.kind === "unreachable" || e.kind === "timeout");
    const own = qr.backend !== undefined && qr.backend.server !== DEFAULT_SERVER;
    const refused = isPrometheusError(e) && (e.httpStatus === 401 || e.httpStatus === 403);
    const tenantNote =
      refused && qr.backend?.tenant !== undefined
        ? ` (sent as tenant ${qr.backend.tenant} in ${qr.backend.tenantHeader ?? "X-Scope-OrgID"}: the backend refuses that tenant)`
        : "";
    chain.fail(
      "query",
      unreachable
        ? unreachableTitle(own ? qr.origin : undefined)
        : "query: Prometheus rejects the rendered query",
      unreachable ? "prometheus-unreachable" : "query-rejected",
      unreachable
        ? own
          ? `${qr.origin}'s server ${qr.backend.url} cannot be reached: ${errorText(e)}; the adapter's queries of its rules fail the same way (HTTP 500 "unable to fetch metrics")`
          : `Prometheus cannot be reached: ${errorText(e)}; the adapter's queries fail the same way (HTTP 500 "unable to fetch metrics")`
        : `Prometheus answers: ${errorText(e)}${tenantNote}`,
      unreachable
        ? unreachableFix(own ? qr.origin : undefined)
        : `fix ${qr.origin}.metricsQuery (or the selector that rendered into it)`,
      { details: [query] },
    );
    return false;
  }
  if (result.resultType !== "vector") {
    chain.fail(
      "query",
      `query: Prometheus returns a ${result.resultType}, not a vector`,
      "query-not-vector",
      "the adapter can only read an instant vector",
      `make ${qr.origin}.metricsQuery return an instant vector`,
      { details: [query] },
    );
    return false;
  }
  const samples = result.result;
  const details = [query];
  if (ask.api === "external") {
    if (samples.length === 0) {
      chain.fail(
        "query",
        "query: returns no sample",
        "no-samples",
        "Prometheus has no series for this metric, namespace and selector now",
        "check the series exist with these labels; the external selector and namespace become matchers",
        { details },
      );
      return false;
    }
    const nan = samples.filter((s) => Number.isNaN(s.value[1]));
    chain.add(
      "query",
      nan.length > 0 ? "warn" : "ok",
      `query: ${String(samples.length)} sample(s)${nan.length > 0 ? `, ${String(nan.length)} NaN` : ""}`,
      { details },
    );
    return true;
  }
  const lbl = q.label ?? "";
  const byObject = new Map<string, number>();
  for (const s of samples) byObject.set(s.metric[lbl] ?? "", s.value[1]);
  const without = names.filter((n) => !byObject.has(n));
  const nan = names.filter((n) => Number.isNaN(byObject.get(n) ?? 0));
  const raw = await rawSeries(cx, q, qr.nsLabel, lbl);
  const stale = raw
    ? names.filter((n) => {
        const age = raw.age.get(n);
        return age !== undefined && age > 2 * (raw.intervalMs ?? 60_000);
      })
    : [];
  const counts = `${String(samples.length)} sample(s), ${String(names.length - without.length)} of ${String(names.length)} object(s) with a value`;
  if (without.length === names.length) {
    const withRaw = raw ? names.filter((n) => raw.age.has(n)) : [];
    let cause: string;
    let kind: string;
    let fix: string;
    const short =
      raw?.intervalMs !== undefined
        ? rateWindows(qr.template).filter((w) => w.ms < 2 * (raw.intervalMs ?? 0))
        : [];
    if (withRaw.length === 0) {
      kind = "pods-without-samples";
      cause = `Prometheus has no ${seriesName} series for any of them (${sample(names)}): they are not scraped, or their series do not carry the labels ${lbl}${ask.namespace ? " and namespace" : ""} with their names`;
      fix =
        "make Prometheus scrape the pods (prometheus.io/scrape annotations, a PodMonitor or ServiceMonitor) and keep the namespace and pod labels";
    } else if (short.length > 0) {
      kind = "rate-window-short";
      const w = short[0];
      cause = `the series exist, but ${w?.fn ?? "rate"}(…[${w?.text ?? "?"}]) covers less than two scrape intervals (${String((raw?.intervalMs ?? 0) / 1000)}s, ${raw?.intervalSource ?? ""}), so it holds fewer than two samples and returns nothing`;
      fix = `widen the window in ${qr.origin}.metricsQuery to at least ${String((2 * (raw?.intervalMs ?? 0)) / 1000)}s (four scrape intervals is safer), or use $__rate_interval-style windows`;
    } else {
      kind = "query-empty";
      cause = `the series exist for ${sample(withRaw)}, but the rendered query returns nothing for them (a matcher in metricsQuery excludes them, or the by (…) clause drops the ${lbl} label)`;
      fix = `keep <<.GroupBy>> in the by (…) clause of ${qr.origin}.metricsQuery and check its matchers`;
    }
    chain.fail("query", `query: ${counts}`, kind, cause, fix, { details });
    return false;
  }
  if (nan.length > 0) {
    chain.fail(
      "query",
      `query: ${counts}; NaN for ${sample(nan)}`,
      "nan",
      "the query divides by zero (a ratio of idle counters); NaN is no usable value for an HPA",
      `guard the division in ${qr.origin}.metricsQuery, e.g. … / (… > 0)`,
      { details },
    );
    return false;
  }
  if (without.length > 0)
    details.push(`no sample for: ${sample(without)} (the HPA controller treats them as missing)`);
  if (stale.length > 0)
    details.push(
      `stale: the last sample of ${sample(stale)} is older than two scrape intervals (Prometheus keeps answering a series for 5 minutes after it stops)`,
    );
  chain.add("query", without.length > 0 || stale.length > 0 ? "warn" : "ok", `query: ${counts}`, {
    details,
  });
  return true;
}

/** Per object, the age of the newest raw sample of the series, and the scrape interval. */
async function rawSeries(
  cx: ExplainContext,
  q: QueryInput,
  nsLabel: string | undefined,
  label: string,
): Promise<{ age: Map<string, number>; intervalMs?: number; intervalSource?: string } | undefined> {
  const prom = cx.o.prometheus;
  if (!prom || label === "") return undefined;
  try {
    const matchers = [labelMatcher(label, "=~", alternationRegex(q.names))];
    if (q.ask.namespace && nsLabel !== undefined) {
      matchers.push(labelMatcher(nsLabel, "=", q.ask.namespace));
    }
    const sel = metricSelector(q.seriesName, matchers);
    const r = await prom.query(`max by (${label}, job) (time() - timestamp(${sel}))`, cx.now);
    const age = new Map<string, number>();
    const jobs = new Set<string>();
    if (r.resultType === "vector") {
      for (const s of r.result) {
        age.set(s.metric[label] ?? "", s.value[1] * 1000);
        if (s.metric["job"]) jobs.add(s.metric["job"]);
      }
    }
    let interval;
    if (cx.o.prometheusOptions) {
      const all = await readScrapeIntervals(cx.o.prometheusOptions).catch(() => undefined);
      interval = all ? intervalForJobs(all, [...jobs]) : undefined;
    }
    return {
      age,
      ...(interval ? { intervalMs: interval.ms, intervalSource: interval.source } : {}),
    };
  } catch {
    return undefined;
  }
}
